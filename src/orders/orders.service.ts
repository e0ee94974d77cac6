import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { ValidationFailedError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { CatalogService } from '../catalog';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { WriteBatch } from '../infra/database/write-batch';
import { QUEUES } from '../infra/queue/queues';
import { InventoryService, StockLine } from '../inventory';
import { IdempotencyStore, requestHash } from './idempotency.store';
import { ORDER_EVENTS } from './order-events';
import { OrderCaps, OrderLimits } from './order-limits';
import { IllegalTransitionError, OrderStatus, sourcesOf } from './order-state';
import { MixedCurrenciesError, OrderNotFoundError, SkuInactiveError, SkuNotFoundError } from './order.errors';
import { NewOrder, OrderRecord, OrderView, OrdersRepository, toView } from './orders.repository';
import { OutboxWriter } from './outbox.writer';
import { withTimeout } from '../common/with-timeout';

export const MAX_ORDER_LINES = 50;
export const MAX_LINE_QUANTITY = 1000;
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ListQuery {
  cursor?: string;
  limit?: number;
  status?: OrderStatus;
  from?: Date;
  to?: Date;
}

export interface OrderPage {
  items: OrderView[];
  nextCursor: string | null;
}

export interface FlashSaleOrderRow {
  reservationId: string;
  userId: string;
  flashSaleId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
  currency: string;
  productName: string;
}

export const expiryJobId = (orderId: string): string => `expire:${orderId}`;

/**
 * Merges lines per SKU in a stable order (by SKU); rejects empty or out-of-range input. Every
 * per-SKU limit applies to the merged quantity: five lines of 1000 of one SKU are one line of
 * 5000, over MAX_LINE_QUANTITY (and over the customer's hold cap, OrderLimits).
 */
export function normalizeItems(items: { sku: string; quantity: number }[]): StockLine[] {
  if (!Array.isArray(items) || items.length === 0)
    throw new ValidationFailedError('items: an order needs at least one item');
  if (items.length > MAX_ORDER_LINES)
    throw new ValidationFailedError(`items: at most ${MAX_ORDER_LINES} lines per order`);
  const bySku = new Map<string, number>();
  for (const [i, it] of items.entries()) {
    if (typeof it?.sku !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(it.sku))
      throw new ValidationFailedError(`items.${i}.sku: must be a SKU (1-64 of A-Z a-z 0-9 . _ -)`);
    if (!Number.isSafeInteger(it.quantity) || it.quantity < 1 || it.quantity > MAX_LINE_QUANTITY)
      throw new ValidationFailedError(
        `items.${i}.quantity: must be an integer from 1 to ${MAX_LINE_QUANTITY}`,
      );
    bySku.set(it.sku, (bySku.get(it.sku) ?? 0) + it.quantity);
  }
  const lines = [...bySku]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
  const over = lines.find((l) => l.quantity > MAX_LINE_QUANTITY);
  if (over)
    throw new ValidationFailedError(
      `items: at most ${MAX_LINE_QUANTITY} units of one SKU per order (${over.sku}: ${over.quantity}; lines of the same SKU are added up)`,
      [{ field: 'items', errors: [`${over.sku}: ${over.quantity} units, at most ${MAX_LINE_QUANTITY}`] }],
    );
  return lines;
}

export function encodeCursor(o: { createdAt: string; id: string }): string {
  return Buffer.from(`${new Date(o.createdAt).getTime()}.${o.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const m = /^(\d{1,15})\.([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new ValidationFailedError('cursor: not a cursor returned by this API');
  return { createdAt: new Date(Number(m[1])), id: m[2] };
}

const linesOf = (o: OrderRecord): StockLine[] => o.items.map((i) => ({ sku: i.sku, quantity: i.quantity }));

/**
 * The order lifecycle. Every state change is a conditional UPDATE (its affected-row count
 * decides who wins a race) plus the stock movement and an outbox row, in one transaction.
 * Side effects outside MySQL (expiry jobs, events) happen after commit, never inside the
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
    private readonly limits: OrderLimits,
    @InjectQueue(QUEUES.orders) private readonly queue: Queue,
  ) {}

  async create(
    userId: string,
    items: { sku: string; quantity: number }[],
    idempotencyKey?: string,
  ): Promise<OrderView> {
    const lines = normalizeItems(items);
    await this.limits.admit(userId);
    const caps = await this.limits.capsFor(userId);
    this.limits.checkLines(lines, caps);
    const key = idempotencyKey || undefined;
    let claim: { key: string; at: Date } | undefined;
    if (key) {
      const found = await this.idempotency.begin<OrderView>(userId, key, requestHash(lines));
      if ('done' in found) return found.done;
      claim = { key, at: found.claimedAt };
    }
    try {
      return await this.place(userId, lines, caps, claim);
    } catch (err) {
      if (claim) await this.idempotency.abandon(userId, claim.key, claim.at).catch(() => undefined);
      throw err;
    }
  }

  private async place(
    userId: string,
    lines: StockLine[],
    caps: OrderCaps,
    claim: { key: string; at: Date } | undefined,
  ): Promise<OrderView> {
    const variants = await this.catalog.findVariantsBySkus(lines.map((l) => l.sku));
    const bySku = new Map(variants.map((v) => [v.sku, v]));
    const unknown = lines.filter((l) => !bySku.has(l.sku)).map((l) => l.sku);
    if (unknown.length) throw new SkuNotFoundError(unknown);
    const inactive = lines.filter((l) => !bySku.get(l.sku)!.active).map((l) => l.sku);
    if (inactive.length) throw new SkuInactiveError(inactive);
    const currencies = [...new Set(variants.map((v) => v.currency))];
    if (currencies.length > 1) throw new MixedCurrenciesError(currencies);

    const now = new Date();
    const order: NewOrder = {
      id: newId(now.getTime()),
      userId,
      currency: currencies[0],
      total: lines.reduce((sum, l) => sum + bySku.get(l.sku)!.price * l.quantity, 0),
      items: lines.map((l) => {
        const v = bySku.get(l.sku)!;
        return {
          sku: l.sku,
          productId: v.productId,
          productName: v.productName,
          unitPrice: v.price,
          quantity: l.quantity,
        };
      }),
      source: 'web',
      idempotencyKey: claim?.key ?? null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.orders.paymentTtlMs),
    };
    const record = recordOf(order);
    const view = toView(record);
    // One WriteBatch: the inserts and the reservation go to MySQL in one round trip, the COMMIT
    // in a second. Stock last: the inserts touch only new rows, so the hot inventory rows
    // (locked in SKU order, the same order in every transaction) are held only from the
    // reservation statements to the COMMIT right after them.
    const batch = new WriteBatch().add(...this.repo.insertStatements(order));
    this.outbox.addTo(batch, [{ type: ORDER_EVENTS.created, order: record, expiresAt: order.expiresAt }]);
    if (claim) batch.add(this.idempotency.completeStatement(userId, claim.key, claim.at, view));
    this.inventory.reserveIn(batch, lines, { orderId: order.id });
    // After the stock: the customer's caps (UNPAID_ORDER_LIMIT, SKU_HOLD_LIMIT) fail the batch on the server.
    batch.add(...this.limits.holdStatements(userId, lines, caps));
    await this.db.commitBatch(batch);
    return view;
  }

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

  /** Admin listing: every user's orders (optionally one user's), newest first. */
  async listAll(q: ListQuery & { userId?: string }): Promise<OrderPage> {
    return this.page(q);
  }

  private async page(q: ListQuery & { userId?: string }): Promise<OrderPage> {
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
    const after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const rows = await this.db.read((em) =>
      this.repo.list(em, { userId: q.userId, status: q.status, from: q.from, to: q.to, after, limit }),
    );
    const items = rows.slice(0, limit).map(toView);
    return {
      items,
      nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null,
    };
  }

  async cancel(userId: string, orderId: string): Promise<OrderView> {
    const record = await this.db.transaction(async (em) => {
      const won = await this.repo.transition(em, orderId, sourcesOf('CANCELLED'), 'CANCELLED', { userId });
      const rec = await this.repo.findOne(em, orderId, userId);
      if (!rec) throw new OrderNotFoundError(orderId);
      if (!won) throw new IllegalTransitionError(orderId, rec.status, 'CANCELLED');
      await this.releaseIfHeld(rec);
      await this.outbox.add(em, [{ type: ORDER_EVENTS.cancelled, order: rec }]);
      // Only a tidy-up (the job finds the order no longer pending): never delays the answer.
      this.db.afterCommit(() => this.unscheduleExpiry(orderId), { background: true });
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
      await this.releaseIfHeld(rec);
      await this.outbox.add(em, [{ type: ORDER_EVENTS.expired, order: rec }]);
      return true;
    });
  }

  /** Pending orders whose payment window closed and whose expiry job did not run (lost, Redis down). */
  async expireOverdue(graceMs = 5000, batch = 500): Promise<number> {
    let n = 0;
    for (const id of await this.repo.overdue(batch, graceMs)) if (await this.expire(id)) n++;
    return n;
  }

  /**
   * Turns flash-sale reservations into ordinary orders, in one transaction. Idempotent: the
   * unique reservation id makes a re-run (or a concurrent duplicate batch) return the orders
   * already created. Stock is not touched: the sale holds those units reserved already.
   */
  async createFlashSaleOrders(rows: FlashSaleOrderRow[]): Promise<Map<string, string>> {
    if (!rows.length) return new Map();
    const products = new Map(
      (await this.catalog.findVariantsBySkus([...new Set(rows.map((r) => r.sku))])).map((v) => [
        v.sku,
        v.productId,
      ]),
    );
    return this.db.transaction(async (em) => {
      const now = new Date();
      const candidates: NewOrder[] = rows.map((r) => ({
        id: newId(now.getTime()),
        userId: r.userId,
        currency: r.currency,
        total: r.unitPrice * r.quantity,
        items: [
          {
            sku: r.sku,
            productId: products.get(r.sku) ?? null,
            productName: r.productName,
            unitPrice: r.unitPrice,
            quantity: r.quantity,
          },
        ],
        source: 'flash_sale',
        flashSaleId: r.flashSaleId,
        reservationId: r.reservationId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + this.config.orders.paymentTtlMs),
      }));
      // INSERT IGNORE on the unique reservation id: a duplicate waits for the first to commit, then is skipped.
      await em.query(
        `INSERT IGNORE INTO orders (id, user_id, status, total_minor, currency, source, flash_sale_id,
           reservation_id, expires_at, created_at, updated_at)
         VALUES ${candidates.map(() => "(?, ?, 'PENDING_PAYMENT', ?, ?, 'flash_sale', ?, ?, ?, ?, ?)").join(', ')}`,
        candidates.flatMap((o) => [
          o.id,
          o.userId,
          o.total,
          o.currency,
          o.flashSaleId,
          o.reservationId,
          o.expiresAt,
          o.createdAt,
          o.createdAt,
        ]),
      );
      const ids = await this.repo.findByReservations(
        em,
        rows.map((r) => r.reservationId),
      );
      const created = candidates.filter((o) => ids.get(o.reservationId!) === o.id);
      await this.repo.insertItems(em, created);
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

  private async unscheduleExpiry(orderId: string): Promise<void> {
    try {
      const job = await withTimeout(this.queue.getJob(expiryJobId(orderId)), 2000);
      await job?.remove();
    } catch {
      /* the job finds the order no longer pending and does nothing */
    }
  }
}

function recordOf(o: NewOrder): OrderRecord {
  return {
    id: o.id,
    userId: o.userId,
    status: 'PENDING_PAYMENT',
    items: o.items.map((i) => ({
      sku: i.sku,
      productName: i.productName,
      quantity: i.quantity,
      unitPrice: i.unitPrice,
      currency: o.currency,
    })),
    total: { amount: o.total, currency: o.currency },
    createdAt: o.createdAt.toISOString(),
    source: o.source,
    flashSaleId: o.flashSaleId ?? null,
    reservationId: o.reservationId ?? null,
    paymentId: null,
  };
}
