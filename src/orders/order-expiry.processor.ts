import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry, traced } from '../infra/queue/worker-registry.service';
import { IdempotencyStore } from './idempotency.store';
import type { OrderEvent } from './order-events';
import { OrdersService, expiryJobId } from './orders.service';

export const SWEEP_EVERY_MS = 30_000;

/**
 * Jobs of the orders queue:
 * - `expire` (one delayed job per unpaid order, jobId `expire:<orderId>`, scheduled from the
 *   order's `order.created` outbox event): the conditional
 *   PENDING_PAYMENT → EXPIRED plus the stock release, one transaction; a no-op when the order
 *   was paid or cancelled first, so running it twice or late is harmless.
 * - `sweep` (repeatable): expires overdue orders whose job was lost, purges old idempotency keys.
 */
@Injectable()
export class OrderExpiryProcessor implements OnModuleInit {
  private readonly logger = new Logger('OrderExpiry');

  constructor(
    @InjectQueue(QUEUES.orders) private readonly queue: Queue<{ orderId?: string }>,
    private readonly workers: WorkerRegistry,
    private readonly orders: OrdersService,
    private readonly idempotency: IdempotencyStore,
  ) {}

  onModuleInit(): void {
    this.workers.processById(QUEUES.orders, 'expire', 'orderId', (id) => this.orders.expire(id), {
      concurrency: 10,
    });
    this.workers.periodic(QUEUES.orders, 'sweep', SWEEP_EVERY_MS, 'orders-sweep', () => this.sweep());
  }

  /**
   * One delayed job per unpaid order, from its `order.created` event (OrdersSubscriptions): a failure fails the
   * outbox job, which is retried, so every committed order gets its job (the jobId dedupes
   * repeats). Until then, or if it is lost later, the sweeper expires overdue orders.
   */
  async schedule(e: OrderEvent): Promise<void> {
    if (!e.expiresAt || e.status !== 'PENDING_PAYMENT') return;
    await this.queue.add('expire', traced({ orderId: e.orderId }), {
      jobId: expiryJobId(e.orderId),
      delay: Math.max(0, Date.parse(e.expiresAt) - Date.now()),
    });
  }

  async sweep(): Promise<{ expired: number; purgedKeys: number }> {
    const expired = await this.orders.expireOverdue();
    const purgedKeys = await this.idempotency.purge();
    if (expired) this.logger.log(`sweeper expired ${expired} overdue orders`);
    return { expired, purgedKeys };
  }
}
