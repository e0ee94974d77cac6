import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { ORDER_EVENTS, OrderEventsBus } from '../orders';
import { PaymentReconciliation } from './payment-reconciliation.service';
import { COMPLETE_REFUND_JOB, PaymentRefunds } from './payment-refunds.service';
import { PaymentsService } from './payments.service';

export const RECONCILE_EVERY_MS = 60_000;

/**
 * The payments module's background work, on the worker:
 * - `complete-refund`: finishes a refund the PSP did not take at once (safe to run twice);
 * - `reconcile` (repeatable): the backstop for lost webhooks, retries and crashes;
 * - order events (from the outbox, so never lost): once an order is paid, expired or cancelled,
 *   its other open payments are cancelled at the PSP, so no card is charged for it afterwards.
 */
@Injectable()
export class PaymentsProcessor implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    @InjectQueue(QUEUES.payments) private readonly queue: Queue<{ refundId?: string }>,
    private readonly workers: WorkerRegistry,
    private readonly payments: PaymentsService,
    private readonly refunds: PaymentRefunds,
    private readonly reconciliation: PaymentReconciliation,
    private readonly orderEvents: OrderEventsBus,
  ) {}

  onModuleInit(): void {
    this.workers.process(
      this.queue,
      async (job) => {
        if (job.data.refundId) await this.refunds.complete(job.data.refundId);
      },
      { name: COMPLETE_REFUND_JOB },
    );
    this.workers.process(this.queue, () => this.reconciliation.reconcile(), { name: 'reconcile' });
    for (const type of [ORDER_EVENTS.paid, ORDER_EVENTS.expired, ORDER_EVENTS.cancelled])
      this.orderEvents.on(type, (e) => this.payments.closeOpenPayments(e.orderId, e.paymentId ?? undefined));
  }

  onApplicationBootstrap(): void {
    this.workers.repeat(this.queue, 'reconcile', RECONCILE_EVERY_MS, 'payments-reconcile');
  }
}
