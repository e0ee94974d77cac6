import { Injectable, Logger } from '@nestjs/common';
import { ValidationFailedError } from '../common/errors/domain-error';
import { isUnavailableError } from '../common/errors/error-mapping';
import { newId } from '../common/ids';
import { CatalogService } from '../catalog';
import { AddressesService } from '../addresses';
import { CheckoutService } from '../checkout';
import { CouponsService } from '../coupons';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { InventoryService } from '../inventory';
import { IdempotencyStore } from './idempotency.store';
import { ORDER_EVENTS } from './order-events';
import { OrderLimits } from './order-limits';
import { IllegalTransitionError, sourcesOf } from './order-state';
import { OrderNotFoundError } from './order.errors';
import { linesOf, recordOf } from './order-records';
import type {
  FlashSaleOrderRow,
  ListQuery,
  OrderAddress,
  OrderPage,
  OrderRecord,
  OrderView,
} from './orders.types';
import { NewOrder, OrdersRepository, toView } from './orders.repository';
import { OutboxWriter } from './outbox.writer';
import { OrderHistoryCache } from './order-history.cache';
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from '../common/order-size';

export { MAX_ORDER_LINES, MAX_LINE_QUANTITY };
export { normalizeItems } from './order-input';
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function encodeCursor(o: { createdAt: string; id: string }): string {
  return Buffer.from(`${new Date(o.createdAt).getTime()}.${o.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const m = /^(\d{1,15})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new ValidationFailedError('cursor: not a cursor returned by this API');
  return { createdAt: new Date(Number(m[1])), id: m[2] };
}

const pageSize = (limit: number | undefined): number =>
  Math.min(Math.max(Math.trunc(limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);

/** A page of `limit` orders from the `limit + 1` rows the repository read. */
function pageOf(rows: OrderRecord[], limit: number): OrderPage {
  const items = rows.slice(0, limit).map(toView);
  return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
}

/**
 * The order lifecycle. Every state change is a conditional UPDATE (its affected-row count
 * decides who wins a race) plus the stock movement and an outbox row, in one transaction.
 * Side effects outside MySQL (events) happen after commit, never inside the
 * transaction callback, because DbRouter may re-run the callback after a deadlock.
 */
@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');

  constructor(
    private readonly db: DbRouter,
    private readonly repo: OrdersRepository,
    private readonly inventory: InventoryService,
    private readonly catalog: CatalogService,
    private readonly idempotency: IdempotencyStore,
    private readonly outbox: OutboxWriter,
    private readonly config: AppConfig,
    private readonly checkout: CheckoutService,
    private readonly coupons: CouponsService,
    private readonly addresses: AddressesService,
    private readonly limits: OrderLimits,
    private readonly history: OrderHistoryCache,
  ) {}

  async get(userId: string, orderId: string): Promise<OrderView> {
    const found = await this.repo.findOneFresh(orderId, userId);
    if (!found) throw new OrderNotFoundError(orderId);
    return toView(found);
  }

  async getForSystem(orderId: string): Promise<OrderView | undefined> {
    const found = await this.repo.findOne(this.db.primaryReader(), orderId);
    return found && toView(found);
  }

  async list(userId: string, q: ListQuery): Promise<OrderPage> {
    return this.page({ ...q, userId });
  }

  /**
   * {@link list} as JSON. The first page without filters — what a customer's order list opens
   * on — comes from OrderHistoryCache while the customer's history version is the one it was
   * stored under; a miss reads the primary (decision 0031). Deeper pages and filtered ones read
   * as `list` does; so does every page without Redis, and a miss while the primary is down.
   */
  async listJson(userId: string, q: ListQuery): Promise<string> {
    if (q.cursor || q.status || q.from || q.to) return JSON.stringify(await this.list(userId, q));
    const limit = pageSize(q.limit);
    const version = await this.history.version(userId);
    if (version === undefined) return JSON.stringify(await this.list(userId, q));
    const hit = this.history.page(userId, version, limit);
    if (hit !== undefined) return hit;
    let rows: OrderRecord[];
    try {
      rows = await this.repo.list(this.db.primaryReader(), { userId, limit });
    } catch (err) {
      // The primary is down: a replica's page, as `list` reads it, not kept (it may be behind).
      if (!isUnavailableError(err)) throw err;
      return JSON.stringify(await this.list(userId, q));
    }
    const json = JSON.stringify(pageOf(rows, limit));
    this.history.store(userId, version, limit, json);
    return json;
  }

  /** Admin listing: every user's orders (optionally one user's), newest first. */
  async listAll(q: ListQuery & { userId?: string }): Promise<OrderPage> {
    return this.page(q);
  }

  private async page(q: ListQuery & { userId?: string }): Promise<OrderPage> {
    const limit = pageSize(q.limit);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.db.read((em) =>
      this.repo.list(em, { userId: q.userId, status: q.status, from: q.from, to: q.to, after, limit }),
    );
    return pageOf(rows, limit);
  }

  async cancel(userId: string, orderId: string): Promise<OrderView> {
    const record = await this.db.transaction(async (em) => {
      const won = await this.repo.transition(em, orderId, sourcesOf('CANCELLED'), 'CANCELLED', { userId });
      const rec = await this.repo.findOne(em, orderId, userId);
      if (!rec) throw new OrderNotFoundError(orderId);
      if (!won) throw new IllegalTransitionError(orderId, rec.status, 'CANCELLED');
      this.history.changed([rec.userId]);
      // The coupon's use comes back in the transition's transaction: exactly once, since only
      // the transaction that won the transition gets here (and the redemption row's state guards it too).
      await this.coupons.giveBack(em, orderId);
      await this.releaseIfHeld(rec);
      await this.outbox.add(em, [{ type: ORDER_EVENTS.cancelled, order: rec }]);
      return rec;
    });
    return toView(record);
  }

  /**
   * Payment succeeded. Runs in the caller's transaction when there is one, so the payment
   * record and the order change commit together. Exactly one of markPaid and expiry wins.
   */
  async markPaid(
    orderId: string,
    ref: { paymentId: string },
  ): Promise<'paid' | 'already_paid' | 'not_payable'> {
    return this.db.transaction(async (em) => {
      const won = await this.repo.transition(em, orderId, sourcesOf('PAID'), 'PAID', {
        paymentId: ref.paymentId,
      });
      const rec = await this.repo.findOne(em, orderId);
      if (!won) {
        const paidBefore = rec && rec.status !== 'PENDING_PAYMENT' && rec.paymentId === ref.paymentId;
        return paidBefore && ['PAID', 'FULFILLED', 'REFUNDED'].includes(rec.status)
          ? ('already_paid' as const)
          : ('not_payable' as const);
      }
      this.history.changed([rec!.userId]);
      await this.inventory.commit(linesOf(rec!), { orderId });
      await this.limits.release({ ...rec!, items: linesOf(rec!) });
      await this.outbox.add(em, [{ type: ORDER_EVENTS.paid, order: rec! }]);
      return 'paid' as const;
    });
  }

  async refund(
    orderId: string,
    ref: { paymentId: string; restock: boolean },
  ): Promise<'refunded' | 'not_refundable'> {
    return this.db.transaction(async (em) => {
      // Only the refund of the payment that paid the order refunds the order (another capture
      // for the same order, refunded on its own, leaves it as it is).
      const won = await this.repo.transition(em, orderId, sourcesOf('REFUNDED'), 'REFUNDED', {
        paidBy: ref.paymentId,
      });
      if (!won) return 'not_refundable' as const;
      const rec = (await this.repo.findOne(em, orderId))!;
      this.history.changed([rec.userId]);
      if (ref.restock) await this.inventory.restock(linesOf(rec), { orderId });
      await this.outbox.add(em, [{ type: ORDER_EVENTS.refunded, order: rec }]);
      return 'refunded' as const;
    });
  }

  /** Admin: the goods left the warehouse. */
  async fulfill(orderId: string): Promise<OrderView> {
    const rec = await this.db.transaction(async (em) => {
      const won = await this.repo.transition(em, orderId, sourcesOf('FULFILLED'), 'FULFILLED');
      const found = await this.repo.findOne(em, orderId);
      if (!found) throw new OrderNotFoundError(orderId);
      if (!won) throw new IllegalTransitionError(orderId, found.status, 'FULFILLED');
      this.history.changed([found.userId]);
      await this.outbox.add(em, [{ type: ORDER_EVENTS.fulfilled, order: found }]);
      return found;
    });
    return toView(rec);
  }

  /** The payment window closed. Returns false when the order was no longer pending (paid, cancelled, gone). */
  async expire(orderId: string): Promise<boolean> {
    return this.db.transaction(async (em) => {
      const won = await this.repo.transition(em, orderId, sourcesOf('EXPIRED'), 'EXPIRED');
      if (!won) return false;
      const rec = (await this.repo.findOne(em, orderId))!;
      this.history.changed([rec.userId]);
      await this.coupons.giveBack(em, orderId);
      await this.releaseIfHeld(rec);
      await this.outbox.add(em, [{ type: ORDER_EVENTS.expired, order: rec }]);
      return true;
    });
  }

  /**
   * Up to `limit` pending orders whose payment window has closed, longest overdue first (the
   * expiry sweep, OrderExpiryProcessor).
   */
  async overdue(limit: number): Promise<string[]> {
    return this.repo.overdue(limit);
  }

  /**
   * Turns flash-sale reservations into ordinary orders, in one transaction. Idempotent: the
   * unique reservation id makes a re-run (or a concurrent duplicate batch) return the orders
   * already created. Stock is not touched: the sale holds those units reserved already.
   */
  async createFlashSaleOrders(rows: FlashSaleOrderRow[]): Promise<Map<string, string>> {
    if (!rows.length) return new Map();
    const [variants, defaults] = await Promise.all([
      this.catalog.findVariantsBySkus([...new Set(rows.map((r) => r.sku))]),
      this.addresses.defaultsOf(rows.map((r) => r.userId)),
    ]);
    const bySku = new Map(variants.map((v) => [v.sku, v]));
    // The buyer's default address, copied; without one the order waits for an address before
    // it can be paid. Tax: the address's country, else the shop's; no shipping line, no coupon.
    const priced = await Promise.all(
      rows.map(async (r) => {
        const d = defaults.get(r.userId);
        const address: OrderAddress | null = d
          ? {
              fullName: d.fullName,
              company: d.company,
              line1: d.line1,
              line2: d.line2,
              city: d.city,
              region: d.region,
              postalCode: d.postalCode,
              country: d.country,
              phone: d.phone,
            }
          : null;
        const amount = r.unitPrice * r.quantity;
        const t = await this.checkout.taxLine(
          address?.country ?? null,
          amount,
          bySku.get(r.sku)?.categoryId ?? null,
        );
        return { address, amount, ...t };
      }),
    );
    return this.db.transaction(async (em) => {
      const now = new Date();
      const candidates: NewOrder[] = rows.map((r, i) => {
        const p = priced[i];
        return {
          id: newId(now.getTime()),
          userId: r.userId,
          currency: r.currency,
          total: p.amount + (p.taxIncluded ? 0 : p.tax),
          items: [
            {
              sku: r.sku,
              productId: bySku.get(r.sku)?.productId ?? null,
              productName: r.productName,
              unitPrice: r.unitPrice,
              quantity: r.quantity,
              tax: p.tax,
              taxRateBp: p.rateBp,
            },
          ],
          source: 'flash_sale',
          flashSaleId: r.flashSaleId,
          reservationId: r.reservationId,
          createdAt: now,
          expiresAt: new Date(now.getTime() + this.config.orders.paymentTtlMs),
          pricing: {
            subtotal: p.amount,
            discount: 0,
            shipping: 0,
            tax: p.tax,
            taxIncluded: p.taxIncluded,
            taxCountry: p.taxCountry,
            shippingMethod: null,
            couponCode: null,
            shippingAddress: p.address,
            awaitingAddress: !p.address,
          },
        };
      });
      // INSERT IGNORE on the unique reservation id: a duplicate waits for the first to commit, then is skipped.
      await this.repo.insertFlashSaleOrders(em, candidates);
      const ids = await this.repo.findByReservations(
        em,
        rows.map((r) => r.reservationId),
      );
      const created = candidates.filter((o) => ids.get(o.reservationId!) === o.id);
      await this.repo.insertItems(em, created);
      this.history.changed(created.map((o) => o.userId));
      await this.outbox.add(
        em,
        created.map((o) => ({ type: ORDER_EVENTS.created, order: recordOf(o), expiresAt: o.expiresAt })),
      );
      return ids;
    });
  }

  /** Only web orders hold their own reservation; a flash sale returns its units itself (on the event). */
  private async releaseIfHeld(rec: OrderRecord): Promise<void> {
    if (rec.source !== 'web') return;
    await this.inventory.release(linesOf(rec), { orderId: rec.id });
    await this.limits.release({ ...rec, items: linesOf(rec) });
  }
}
