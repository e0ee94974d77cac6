import { Injectable } from '@nestjs/common';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { withTimeout } from '../common/with-timeout';
import { AppConfig } from '../infra/config/app-config';
import { Statement } from '../infra/database/write-batch';
import { RedisService } from '../infra/redis/redis.service';
import { LocalThrottler, RateLimitedError, RedisFallback, RedisThrottlerStorage } from '../infra/throttling';
import type { StockLine } from '../inventory';
import { ORDERS_ROW, OrderHoldsRepository } from './order-holds.repository';
import { SkuHoldLimitError, UnpaidOrderLimitError } from './order.errors';

export { isCapViolation } from './order-holds.repository';

/** What one customer may hold in unpaid web orders. */
export interface OrderCaps {
  /** Open unpaid (PENDING_PAYMENT) web orders. */
  maxUnpaidOrders: number;
  /** Units of one SKU across those orders. */
  maxUnpaidUnitsPerSku: number;
}

/** Who places an order, as the transport's auth guard saw the caller. */
export interface Customer {
  id: string;
  /**
   * The access token's `ev` claim (decision 0019): at most one access-token lifetime behind, and
   * only in the safe direction (a fresh verification shows at the next refresh). Missing = unverified.
   */
  emailVerified?: boolean;
}

/**
 * The caps of one customer (decisions 0018, 0019): the configuration's (ORDER_MAX_UNPAID_ORDERS,
 * ORDER_MAX_UNPAID_UNITS_PER_SKU) for a verified email address; until it is verified, the tighter
 * ORDER_UNVERIFIED_MAX_UNPAID_ORDERS / ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU (never looser
 * than the verified ones) — a throwaway account costs a registration, a verified one a mailbox.
 * Asked once per order placed, outside the order's transaction; the caps it returns are enforced
 * inside it. Read from the token, so no database round trip on the order path.
 */
@Injectable()
export class OrderCapsPolicy {
  constructor(private readonly config: AppConfig) {}

  capsFor(customer: Customer): OrderCaps {
    const { maxUnpaidOrders, maxUnpaidUnitsPerSku, unverified } = this.config.orders.limits;
    if (customer.emailVerified) return { maxUnpaidOrders, maxUnpaidUnitsPerSku };
    return {
      maxUnpaidOrders: Math.min(maxUnpaidOrders, unverified.maxUnpaidOrders),
      maxUnpaidUnitsPerSku: Math.min(maxUnpaidUnitsPerSku, unverified.maxUnpaidUnitsPerSku),
    };
  }
}

/** Bound on one rate-limiter round trip; past it (or with Redis down) this process counts alone. */
const REDIS_BOUND_MS = 500;

/**
 * Denial of inventory (OWASP API6 / OAT-021), docs/decisions/0018-order-limits.md:
 * - `admit`: orders placed per customer per window (Redis, shared by every instance; counted in
 *   this process while Redis is unreachable), 429 RATE_LIMITED with Retry-After;
 * - `holdStatements`: the customer's unpaid orders and unpaid units per SKU, raised in the
 *   order's own WriteBatch. Each raise is an upsert of one `order_holds` row whose CHECK
 *   (held <= cap) fails the statement — and so the whole batch, before its COMMIT, on the server —
 *   when the order would pass a cap: no read-then-write, so N parallel orders of one customer
 *   serialize on the customer's rows and at most the cap gets through; the order stays one round
 *   trip. The rows are raised after the stock (same lock order in every transaction: stock rows
 *   by SKU, then the customer's rows by SKU, '*' first);
 * - `release`: an unpaid web order left PENDING_PAYMENT (paid, cancelled, expired), in that
 *   transition's transaction, which alone wins the order's conditional UPDATE, so once.
 * Flash-sale orders are not counted: their units are held by the sale (perUserLimit).
 */
@Injectable()
export class OrderLimits {
  private readonly storage: RedisThrottlerStorage;
  private readonly local = new LocalThrottler();
  private readonly fallback = new RedisFallback('OrderLimits', 'order rate');

  constructor(
    redis: RedisService,
    private readonly holds: OrderHoldsRepository,
    private readonly config: AppConfig,
    private readonly policy: OrderCapsPolicy,
  ) {
    this.storage = new RedisThrottlerStorage(redis);
  }

  /** Counts an order attempt of `userId`; 429 RATE_LIMITED once over ORDER_RATE_LIMIT per window. */
  async admit(userId: string): Promise<void> {
    const { rateLimit, rateWindowMs } = this.config.orders.limits;
    const r = await this.count(userId, rateWindowMs, rateLimit);
    if (r.isBlocked)
      throw new RateLimitedError(
        Math.max(1, r.timeToBlockExpire),
        `Too many orders: at most ${rateLimit} per ${Math.round(rateWindowMs / 1000)} s per customer; retry later`,
      );
  }

  capsFor(customer: Customer): OrderCaps {
    return this.policy.capsFor(customer);
  }

  /** An order that alone takes more of a SKU than a customer may hold is refused before any write. */
  checkLines(lines: StockLine[], caps: OrderCaps): void {
    const over = lines.find((l) => l.quantity > caps.maxUnpaidUnitsPerSku);
    if (over) throw new SkuHoldLimitError(over.sku, caps.maxUnpaidUnitsPerSku, 0, over.quantity);
  }

  /**
   * The raises of one order, for its WriteBatch (after the stock reservation). `lines` are merged
   * and sorted by SKU (normalizeItems). A raise past its cap fails with the CHECK; its `explain`
   * turns that into UNPAID_ORDER_LIMIT or SKU_HOLD_LIMIT.
   */
  holdStatements(userId: string, lines: StockLine[], caps: OrderCaps): Statement[] {
    const raise = (sku: string, quantity: number, cap: number): Statement =>
      this.holds.raiseStatement(userId, sku, quantity, cap, async (held) =>
        sku === ORDERS_ROW
          ? new UnpaidOrderLimitError(cap)
          : new SkuHoldLimitError(sku, cap, await held(), quantity),
      );
    return [
      raise(ORDERS_ROW, 1, caps.maxUnpaidOrders),
      ...lines.map((l) => raise(l.sku, l.quantity, caps.maxUnpaidUnitsPerSku)),
    ];
  }

  /**
   * Gives back what an unpaid web order held (it was paid, cancelled or expired). Joins the
   * caller's transaction. Never below zero: orders placed before the holds existed release
   * what they never raised.
   */
  async release(order: { userId: string; source: string; items: StockLine[] }): Promise<void> {
    if (order.source !== 'web') return;
    const bySku = new Map<string, number>();
    for (const i of order.items) bySku.set(i.sku, (bySku.get(i.sku) ?? 0) + i.quantity);
    await this.holds.release(order.userId, bySku);
  }

  private count(userId: string, windowMs: number, limit: number): Promise<ThrottlerStorageRecord> {
    return this.fallback.run(
      () =>
        withTimeout(
          this.storage.increment(userId, windowMs, limit, windowMs, 'orders'),
          REDIS_BOUND_MS,
          'Redis order rate limit',
        ),
      () => this.local.increment(`orders:${userId}`, windowMs, limit, windowMs),
    );
  }
}
