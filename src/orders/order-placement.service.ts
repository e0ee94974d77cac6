import { Injectable } from '@nestjs/common';
import { AddressesService, normalizeAddress } from '../addresses';
import { CartService } from '../cart';
import { CheckoutService, PriceChangedError, breakdownOf } from '../checkout';
import { ValidationFailedError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { CouponsService } from '../coupons';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { WriteBatch } from '../infra/database/write-batch';
import { InventoryService, StockLine } from '../inventory';
import type { AddressInput } from '../addresses';
import { IdempotencyStore } from './idempotency.store';
import { ORDER_EVENTS } from './order-events';
import {
  AddressNotAwaitedError,
  CreateOrderInput,
  checkLineSource,
  normalizeItems,
  orderRequestHash,
  withoutNulls,
} from './order-input';
import { OrderHistoryCache } from './order-history.cache';
import { Customer, OrderCaps, OrderLimits } from './order-limits';
import { OrderNotFoundError } from './order.errors';
import { newOrderOf, recordOf } from './order-records';
import { OrdersRepository, toView } from './orders.repository';
import type { OrderAddress, OrderView, QuoteView } from './orders.types';
import { OutboxWriter } from './outbox.writer';

/**
 * Placing orders (REST `POST /orders`, gRPC `CreateOrder`), pricing them without placing
 * (quotes) and giving a waiting order its address. The price comes from CheckoutService; the
 * order, its outbox event, the Idempotency-Key's completion, the coupon's redemption and the
 * stock reservation go to MySQL as one WriteBatch (decisions 0011, 0022).
 */
@Injectable()
export class OrderPlacement {
  constructor(
    private readonly db: DbRouter,
    private readonly repo: OrdersRepository,
    private readonly inventory: InventoryService,
    private readonly idempotency: IdempotencyStore,
    private readonly outbox: OutboxWriter,
    private readonly config: AppConfig,
    private readonly checkout: CheckoutService,
    private readonly coupons: CouponsService,
    private readonly cart: CartService,
    private readonly addresses: AddressesService,
    private readonly limits: OrderLimits,
    private readonly history: OrderHistoryCache,
  ) {}

  /** Items as before, or `{items | fromCart, address, shippingMethod, couponCode, expectedTotal}`. */
  async create(
    customer: Customer,
    input: CreateOrderInput | { sku: string; quantity: number }[],
    idempotencyKey?: string,
  ): Promise<OrderView> {
    const userId = customer.id;
    const req: CreateOrderInput = Array.isArray(input) ? { items: input } : withoutNulls(input);
    const fromCart = checkLineSource(req);
    this.checkout.checkOptions(req);
    const given = fromCart ? undefined : normalizeItems(req.items!);
    // The customer's order rate and caps (decision 0018): counted before anything is read.
    await this.limits.admit(userId);
    const caps = await this.limits.capsFor(customer);
    if (given) this.limits.checkLines(given, caps);
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
      let lines = given;
      if (!lines) {
        lines = normalizeItems(await this.cart.orderLines(userId));
        this.limits.checkLines(lines, caps);
      }
      return await this.place(userId, lines, req, fromCart, caps, claim);
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
    caps: OrderCaps,
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
    // One WriteBatch: the inserts, the coupon's redemption, the reservation and the customer's
    // holds go to MySQL in one round trip, the COMMIT in a second. Hot rows last and always in
    // the same order (the coupon's counters, the inventory rows in SKU order, the customer's
    // hold rows), so they are held only from their UPDATE to the COMMIT right after, and two
    // orders never wait on each other in a cycle (cancel and expiry take them in that order too).
    const batch = new WriteBatch().add(...this.repo.insertStatements(order));
    this.outbox.addTo(batch, [{ type: ORDER_EVENTS.created, order: record, expiresAt: order.expiresAt }]);
    if (claim) batch.add(this.idempotency.completeStatement(userId, claim.key, claim.at, view));
    if (priced.coupon) batch.add(...this.coupons.redeemStatements(priced.coupon, order.id, userId, now));
    this.inventory.reserveIn(batch, lines, { orderId: order.id });
    // After the stock: the customer's caps (UNPAID_ORDER_LIMIT, SKU_HOLD_LIMIT) fail the batch on the server.
    batch.add(...this.limits.holdStatements(userId, lines, caps));
    // The cart is a convenience copy: what the order took leaves it after the commit (a failure
    // leaves the lines in the cart, where the customer sees them).
    if (fromCart) batch.afterCommit(() => this.cart.take(userId, lines), { background: true });
    this.history.changed([userId], (hook) => batch.afterCommit(hook));
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
    const address: OrderAddress =
      input.addressId !== undefined
        ? await this.addresses.postalAddress(userId, input.addressId)
        : normalizeAddress(input.address!);
    const rec = await this.db.transaction(async (em) => {
      const won = await this.repo.setAddress(em, orderId, userId, address);
      const found = await this.repo.findOne(em, orderId, userId);
      if (!found) throw new OrderNotFoundError(orderId);
      if (!won) throw new AddressNotAwaitedError(orderId);
      this.history.changed([userId]);
      return found;
    });
    return toView(rec);
  }
}
