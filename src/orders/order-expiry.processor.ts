import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { IdempotencyStore } from './idempotency.store';
import { OrdersService } from './orders.service';

/** How often the expiry sweep looks for pending orders whose payment window has closed. */
export const EXPIRE_DUE_EVERY_MS = 1000;
export const SWEEP_EVERY_MS = 30_000;
/** Orders read per look, and expired at once (each is its own short transaction). */
const DUE_BATCH = 500;
const DUE_CONCURRENCY = 10;
/** One sweep run stops after this long; the next run (a second later) goes on. */
const DUE_BUDGET_MS = 10_000;

/**
 * Expiry of unpaid orders (decision 0034), on the orders queue:
 * - `expire-due` (repeatable, every second): reads the pending orders whose `expires_at` has
 *   passed (`(status, expires_at)`, the database's clock) and expires each — the conditional
 *   PENDING_PAYMENT → EXPIRED plus the stock release, one transaction; a no-op when the order was
 *   paid or cancelled first, so two runs on the same order (two workers) are harmless. An order
 *   expires within about a second of its window closing, and nothing per order is kept in Redis.
 * - `expire` (jobs `expire:<orderId>` delayed by earlier versions, one per unpaid order): still
 *   handled, so the ones queued before an upgrade run; nothing schedules them any more.
 * - `sweep` (repeatable): purges old idempotency keys.
 */
@Injectable()
export class OrderExpiryProcessor implements OnModuleInit {
  private readonly logger = new Logger('OrderExpiry');

  constructor(
    private readonly workers: WorkerRegistry,
    private readonly orders: OrdersService,
    private readonly idempotency: IdempotencyStore,
  ) {}

  onModuleInit(): void {
    this.workers.periodic(QUEUES.orders, 'expire-due', EXPIRE_DUE_EVERY_MS, 'orders-expire-due', () =>
      this.expireDue(),
    );
    this.workers.processById(QUEUES.orders, 'expire', 'orderId', (id) => this.orders.expire(id), {
      concurrency: 10,
    });
    this.workers.periodic(QUEUES.orders, 'sweep', SWEEP_EVERY_MS, 'orders-sweep', () => this.sweep());
  }

  /**
   * Expires every overdue pending order (within DUE_BUDGET_MS); answers how many it expired. An
   * order whose expiry fails (a deadlock past its retries, the primary gone mid-run) is logged and
   * left for the next run; it never holds up the orders behind it.
   */
  async expireDue(): Promise<number> {
    const until = Date.now() + DUE_BUDGET_MS;
    let expired = 0;
    const failed = new Map<string, unknown>();
    for (;;) {
      const ids = (await this.orders.overdue(DUE_BATCH + failed.size)).filter((id) => !failed.has(id));
      for (let i = 0; i < ids.length; i += DUE_CONCURRENCY) {
        const group = ids.slice(i, i + DUE_CONCURRENCY);
        const outcomes = await Promise.allSettled(group.map((id) => this.orders.expire(id)));
        outcomes.forEach((o, k) => {
          if (o.status === 'rejected') failed.set(group[k], o.reason);
          else if (o.value) expired++;
        });
      }
      if (ids.length < DUE_BATCH || Date.now() >= until) break;
    }
    if (expired >= DUE_BATCH) this.logger.log(`expired ${expired} unpaid orders`);
    if (failed.size) {
      const [id, err] = failed.entries().next().value as [string, unknown];
      this.logger.warn(
        `${failed.size} overdue order(s) could not be expired this run (retried in ${EXPIRE_DUE_EVERY_MS} ms); ` +
          `first: ${id}: ${(err as Error)?.message ?? String(err)}`,
      );
    }
    return expired;
  }

  async sweep(): Promise<{ purgedKeys: number }> {
    return { purgedKeys: await this.idempotency.purge() };
  }
}
