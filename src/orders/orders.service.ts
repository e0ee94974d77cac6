import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { ConflictError, ValidationFailedError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { CatalogService } from '../catalog';
import { AddressesService, normalizeAddress } from '../addresses';
import type { AddressInput } from '../addresses';
import { CartService } from '../cart';
import {
  Breakdown,
  CheckoutOptions,
  CheckoutService,
  PriceChangedError,
  PricedLine,
  PricedOrder,
  breakdownOf,
} from '../checkout';
import { CouponsService } from '../coupons';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { WriteBatch } from '../infra/database/write-batch';
import { QUEUES } from '../infra/queue/queues';
import { InventoryService, StockLine } from '../inventory';
import { IdempotencyStore, requestHash } from './idempotency.store';
import { ORDER_EVENTS } from './order-events';
import { IllegalTransitionError, OrderStatus, sourcesOf } from './order-state';
import { OrderNotFoundError } from './order.errors';
import {
  NewOrder,
  OrderAddress,
  OrderRecord,
  OrderView,
  OrdersRepository,
  pricingValues,
  PRICING_COLUMNS,
  PRICING_PLACEHOLDERS,
  toView,
} from './orders.repository';
import { OutboxWriter } from './outbox.writer';
import { withTimeout } from '../common/with-timeout';
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from '../common/order-limits';

export { MAX_ORDER_LINES, MAX_LINE_QUANTITY };
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
 * What `POST /orders` (and gRPC CreateOrder) takes: its lines (`items`, or `fromCart`), and the
 * checkout options (address, shipping method, coupon). `expectedTotal`: the total of the quote
 * the customer accepted; another total answers 409 PRICE_CHANGED.
 */
export interface CreateOrderInput extends CheckoutOptions {
  items?: { sku: string; quantity: number }[];
  fromCart?: boolean;
  expectedTotal?: number;
}

/** A price quote: the order it would be, not placed. */
export interface QuoteView {
  items: PricedLine[];
  breakdown: Breakdown;
  taxCountry: string;
  shippingAddress: OrderAddress | null;
  shippingMethod: { code: string; name: string } | null;
  coupon: { code: string } | null;
}

/** 409 ADDRESS_NOT_AWAITED: the order has its address (or is no longer unpaid). */
export class AddressNotAwaitedError extends ConflictError {
  constructor(orderId: string) {
    super('ADDRESS_NOT_AWAITED', `Order ${orderId} is not waiting for an address`);
  }
}

/**
 * The idempotency hash of a request: every field that changes what the order is. An items-only
 * request hashes as it did before checkout existed (keys in flight across the upgrade still match).
 */
export function orderRequestHash(lines: StockLine[] | 'cart', input: CreateOrderInput): string {
  const extra = {
    addressId: input.addressId,
    shippingAddress: input.shippingAddress,
    shippingMethod: input.shippingMethod,
    couponCode: input.couponCode ? input.couponCode.trim().toUpperCase() : undefined,
    expectedTotal: input.expectedTotal,
  };
  if (lines !== 'cart' && Object.values(extra).every((v) => v === undefined)) return requestHash(lines);
  return requestHash({ lines, ...extra });
}

/** Merges lines per SKU in a stable order; rejects empty or out-of-range input. */
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
  return [...bySku]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
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
    private readonly checkout: CheckoutService,
    private readonly coupons: CouponsService,
    private readonly cart: CartService,
    private readonly addresses: AddressesService,
    @InjectQueue(QUEUES.orders) private readonly queue: Queue,
  ) {}

  /** Items as before, or `{items | fromCart, address, shippingMethod, couponCode, expectedTotal}`. */
  async create(
    userId: string,
    input: CreateOrderInput | { sku: string; quantity: number }[],
    idempotencyKey?: string,
  ): Promise<OrderView> {
    const req: CreateOrderInput = Array.isArray(input) ? { items: input } : withoutNulls(input);
    const fromCart = checkLineSource(req);
    this.checkout.checkOptions(req);
    const given = fromCart ? undefined : normalizeItems(req.items!);
    const key = idempotencyKey || undefined;
    let claim: { key: string; at: Date } | undefined;
    if (key) {
      const found = await this.idempotency.begin<OrderView>(
        userId,
        key,
        orderRequestHash(given ?? 'cart', req),
      );
      if ('done' in found) return found.done;
      claim = { key, at: found.claimedAt };
    }
    try {
      const lines = given ?? normalizeItems(await this.cart.orderLines(userId));
      return await this.place(userId, lines, req, fromCart, claim);
    } catch (err) {
      if (claim) await this.idempotency.abandon(userId, claim.key, claim.at).catch(() => undefined);
      throw err;
    }
  }

  /** The price of the order `input` would place, with its breakdown; nothing is reserved or written. */
  async quote(userId: string, body: CreateOrderInput): Promise<QuoteView> {
    const input = withoutNulls(body);
    const fromCart = checkLineSource(input);
    const lines = normalizeItems(fromCart ? await this.cart.orderLines(userId) : input.items!);
    const p = await this.checkout.price(userId, lines, input, { checkCounters: true });
    return {
      items: p.lines,
      breakdown: breakdownOf(p),
      taxCountry: p.taxCountry,
      shippingAddress: p.shippingAddress,
      shippingMethod: p.shippingMethod,
      coupon: p.coupon && { code: p.coupon.code },
    };
  }

  private async place(
    userId: string,
    lines: StockLine[],
    req: CreateOrderInput,
    fromCart: boolean,
    claim: { key: string; at: Date } | undefined,
  ): Promise<OrderView> {
    const priced = await this.checkout.price(userId, lines, req, { checkCounters: false });
    if (req.expectedTotal !== undefined && req.expectedTotal !== priced.total)
      throw new PriceChangedError(req.expectedTotal, breakdownOf(priced));
    const now = new Date();
    const order = newOrderOf(userId, priced, {
      id: newId(now.getTime()),
      now,
      expiresAt: new Date(now.getTime() + this.config.orders.paymentTtlMs),
      idempotencyKey: claim?.key ?? null,
    });
    const record = recordOf(order);
    const view = toView(record);
    // One WriteBatch: the inserts, the coupon's redemption and the reservation go to MySQL in
    // one round trip, the COMMIT in a second. Hot rows last and always in the same order (the
    // coupon's counter, then the inventory rows in SKU order), so they are held only from their
    // UPDATE to the COMMIT right after, and two orders never wait on each other in a cycle.
    const batch = new WriteBatch().add(...this.repo.insertStatements(order));
    this.outbox.addTo(batch, [{ type: ORDER_EVENTS.created, order: record, expiresAt: order.expiresAt }]);
    if (claim) batch.add(this.idempotency.completeStatement(userId, claim.key, claim.at, view));
    if (priced.coupon) batch.add(...this.coupons.redeemStatements(priced.coupon, order.id, userId, now));
    this.inventory.reserveIn(batch, lines, { orderId: order.id });
    // The cart is a convenience copy: what the order took leaves it after the commit (a failure
    // leaves the lines in the cart, where the customer sees them).
    if (fromCart) batch.afterCommit(() => this.cart.take(userId, lines), { background: true });
    await this.db.commitBatch(batch);
    return view;
  }

  /**
   * Gives an order awaiting its address (a flash-sale order of a buyer without a default one) the
   * address to ship to; then it can be paid. Its price does not change (docs/checkout.md).
   */
  async setAddress(
    userId: string,
    orderId: string,
    body: { addressId?: string | null; address?: AddressInput | null },
  ): Promise<OrderView> {
    const input = withoutNulls(body);
    if ((input.addressId === undefined) === (input.address === undefined))
      throw new ValidationFailedError('Give addressId or address (one of them)');
    let address: OrderAddress;
    if (input.addressId !== undefined) {
      const {
        id: _i,
        isDefault: _d,
        createdAt: _c,
        ...fields
      } = await this.addresses.get(userId, input.addressId);
      address = fields;
    } else address = normalizeAddress(input.address!);
    const rec = await this.db.transaction(async (em) => {
      const won = await this.repo.setAddress(em, orderId, userId, address);
      const found = await this.repo.findOne(em, orderId, userId);
      if (!found) throw new OrderNotFoundError(orderId);
      if (!won) throw new AddressNotAwaitedError(orderId);
      return found;
    });
    return toView(rec);
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
      // The coupon's use comes back in the transition's transaction: exactly once, since only
      // the transaction that won the transition gets here (and the redemption row's state guards it too).
      await this.coupons.giveBack(em, orderId);
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
      await this.coupons.giveBack(em, orderId);
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
      await em.query(
        `INSERT IGNORE INTO orders (id, user_id, status, total_minor, currency, source, flash_sale_id,
           reservation_id, expires_at, created_at, updated_at, ${PRICING_COLUMNS})
         VALUES ${candidates
           .map(() => `(?, ?, 'PENDING_PAYMENT', ?, ?, 'flash_sale', ?, ?, ?, ?, ?, ${PRICING_PLACEHOLDERS})`)
           .join(', ')}`,
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
          ...pricingValues(o),
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
    if (rec.source === 'web') await this.inventory.release(linesOf(rec), { orderId: rec.id });
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
  const p = o.pricing;
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
      lineTotal: i.unitPrice * i.quantity,
      discount: i.discount ?? 0,
      tax: i.tax ?? 0,
      taxRateBp: i.taxRateBp ?? 0,
    })),
    total: { amount: o.total, currency: o.currency },
    createdAt: o.createdAt.toISOString(),
    source: o.source,
    breakdown: {
      subtotal: p?.subtotal ?? o.total,
      discount: p?.discount ?? 0,
      shipping: p?.shipping ?? 0,
      tax: p?.tax ?? 0,
      taxIncluded: p?.taxIncluded ?? true,
      total: o.total,
      currency: o.currency,
    },
    taxCountry: p?.taxCountry ?? null,
    shippingAddress: p?.shippingAddress ?? null,
    shippingMethod: p?.shippingMethod ?? null,
    coupon: p?.couponCode ? { code: p.couponCode } : null,
    awaitingAddress: p?.awaitingAddress ?? false,
    flashSaleId: o.flashSaleId ?? null,
    reservationId: o.reservationId ?? null,
    paymentId: null,
  };
}

/** A web order from its price. */
function newOrderOf(
  userId: string,
  p: PricedOrder,
  at: { id: string; now: Date; expiresAt: Date; idempotencyKey: string | null },
): NewOrder {
  return {
    id: at.id,
    userId,
    currency: p.currency,
    total: p.total,
    items: p.lines.map((l) => ({
      sku: l.sku,
      productId: l.productId,
      productName: l.productName,
      unitPrice: l.unitPrice,
      quantity: l.quantity,
      discount: l.discount,
      tax: l.tax,
      taxRateBp: l.taxRateBp,
    })),
    source: 'web',
    idempotencyKey: at.idempotencyKey,
    createdAt: at.now,
    expiresAt: at.expiresAt,
    pricing: {
      subtotal: p.subtotal,
      discount: p.discount,
      shipping: p.shipping,
      tax: p.tax,
      taxIncluded: p.taxIncluded,
      taxCountry: p.taxCountry,
      shippingMethod: p.shippingMethod,
      couponCode: p.coupon?.code ?? null,
      shippingAddress: p.shippingAddress,
      awaitingAddress: false,
    },
  };
}

/** A JSON null in an optional field means "not given". */
function withoutNulls<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

/** `items` or `fromCart: true`, exactly one; returns whether the lines come from the cart. */
function checkLineSource(req: CreateOrderInput): boolean {
  const fromCart = req.fromCart === true;
  if (fromCart && req.items !== undefined)
    throw new ValidationFailedError('Give items or fromCart, not both');
  if (!fromCart && req.items === undefined)
    throw new ValidationFailedError('items: an order needs at least one item (or fromCart: true)');
  return fromCart;
}
