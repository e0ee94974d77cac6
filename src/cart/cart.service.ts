import { Injectable } from '@nestjs/common';
import { CatalogService, VariantPrice } from '../catalog';
import { ValidationFailedError } from '../common/errors/domain-error';
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES, SKU_PATTERN } from '../common/order-size';
import { AppConfig } from '../infra/config/app-config';
import { CartStore, type ChangeResult } from './cart.store';
import {
  CartFullError,
  CartItemNotFoundError,
  CartLineLimitError,
  CartNotOrderableError,
  CartSkuInactiveError,
  CartSkuNotFoundError,
} from './cart.errors';
import type { CartLineView, CartView } from './cart.types';

/**
 * One active cart per customer, in Redis (CartStore), kept across devices and sessions until
 * it is ordered, cleared or left untouched for CART_TTL_SECONDS. Bounded like an order (at most
 * MAX_ORDER_LINES SKUs, of each what one customer may hold unpaid), so a full cart is at most
 * one order's worth.
 * Prices and availability come from the catalog each time the cart is read: the cart stores
 * SKUs and quantities only.
 */
@Injectable()
export class CartService {
  constructor(
    private readonly store: CartStore,
    private readonly catalog: CatalogService,
    private readonly config: AppConfig,
  ) {}

  /**
   * A cart holds what one order may take: MAX_ORDER_LINES SKUs, and of each at most
   * MAX_LINE_QUANTITY and what one customer may hold unpaid (ORDER_MAX_UNPAID_UNITS_PER_SKU,
   * decision 0018). Tighter caps a per-account policy gives at checkout (OrderCapsPolicy) are
   * applied when the order is placed (409 SKU_HOLD_LIMIT): the cart does not know the account.
   */
  private get caps() {
    return {
      maxLines: MAX_ORDER_LINES,
      maxQuantity: this.maxQuantity,
      ttlSeconds: this.config.commerce.cartTtlSeconds,
    };
  }

  private get maxQuantity(): number {
    return Math.min(MAX_LINE_QUANTITY, this.config.orders.limits.maxUnpaidUnitsPerSku);
  }

  get(userId: string): Promise<CartView> {
    return this.store.lines(userId).then((lines) => this.view(lines));
  }

  /** Adds `quantity` of a SKU that is for sale now (404 SKU_NOT_FOUND, 409 SKU_INACTIVE, CART_FULL, CART_LINE_LIMIT). */
  add(userId: string, sku: string, quantity: number): Promise<CartView> {
    // A `.then` chain rather than `async` (see CartStore.lines); a refusal is still a rejection.
    try {
      checkLine(sku, quantity, 1);
      const cached = this.catalog.cachedVariantsBySkus([sku]);
      if (cached) return this.addVariant(userId, sku, quantity, cached[0]);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.catalog
      .findVariantsBySkus([sku])
      .then(([variant]) => this.addVariant(userId, sku, quantity, variant));
  }

  private addVariant(
    userId: string,
    sku: string,
    quantity: number,
    variant: VariantPrice | undefined,
  ): Promise<CartView> {
    if (!variant) return Promise.reject(new CartSkuNotFoundError(sku));
    if (!variant.active) return Promise.reject(new CartSkuInactiveError(sku));
    return this.store
      .change(userId, sku, 'add', quantity, this.caps)
      .then((res) => this.view(this.applied(res, sku)));
  }

  /**
   * Sets a line's quantity; 0 removes it (404 CART_ITEM_NOT_FOUND when there is no such line).
   * Lowering or removing works even for a SKU no longer sold.
   */
  async set(userId: string, sku: string, quantity: number): Promise<CartView> {
    checkLine(sku, quantity, 0);
    if (quantity === 0) return this.remove(userId, sku);
    const lines = await this.store.lines(userId);
    if (!lines.has(sku) || quantity > lines.get(sku)!) {
      const [variant] = await this.catalog.findVariantsBySkus([sku]);
      if (!variant) throw new CartSkuNotFoundError(sku);
      if (!variant.active) throw new CartSkuInactiveError(sku);
    }
    return this.view(await this.apply(userId, sku, 'set', quantity));
  }

  async remove(userId: string, sku: string): Promise<CartView> {
    if (typeof sku !== 'string' || !SKU_PATTERN.test(sku))
      throw new ValidationFailedError('sku: must be a SKU (1-64 of A-Z a-z 0-9 . _ -)');
    if (!(await this.store.remove(userId, sku))) throw new CartItemNotFoundError(sku);
    return this.get(userId);
  }

  clear(userId: string): Promise<void> {
    return this.store.clear(userId);
  }

  /** The cart as order lines, for checkout: 409 CART_EMPTY, or CART_NOT_ORDERABLE naming the lines no longer sold. */
  async orderLines(userId: string): Promise<{ sku: string; quantity: number }[]> {
    const cart = await this.get(userId);
    if (!cart.items.length) throw new CartNotOrderableError('CART_EMPTY', 'The cart is empty');
    const bad = cart.items.filter((i) => !i.available);
    if (bad.length)
      throw new CartNotOrderableError(
        'CART_NOT_ORDERABLE',
        `Remove the items no longer sold first: ${bad.map((b) => b.sku).join(', ')}`,
        { items: bad.map((b) => ({ sku: b.sku, problem: b.problem })) },
      );
    return cart.items.map((i) => ({ sku: i.sku, quantity: i.quantity }));
  }

  /** After an order from the cart committed: what it took leaves the cart (lines added meanwhile stay). */
  take(userId: string, lines: { sku: string; quantity: number }[]): Promise<void> {
    return this.store.take(userId, lines);
  }

  /** The change, and the cart after it (one Redis round trip). */
  private async apply(
    userId: string,
    sku: string,
    mode: 'add' | 'set',
    quantity: number,
  ): Promise<Map<string, number>> {
    return this.applied(await this.store.change(userId, sku, mode, quantity, this.caps), sku);
  }

  /** The cart after a change, or the refusal. */
  private applied(res: ChangeResult, sku: string): Map<string, number> {
    if (res.ok) return res.lines;
    if (res.reason === 'lines') throw new CartFullError(MAX_ORDER_LINES);
    throw new CartLineLimitError(sku, this.maxQuantity, res.current);
  }

  /**
   * The cart priced from the catalog now: synchronously when this instance's L1 cache holds
   * every price (the common case: no promise, no parse), else through the cache's async path.
   */
  private view(lines: Map<string, number>): CartView | Promise<CartView> {
    const skus = [...lines.keys()].sort();
    const cached = this.catalog.cachedVariantsBySkus(skus);
    return cached
      ? priced(lines, skus, cached)
      : this.catalog.findVariantsBySkus(skus).then((found) => priced(lines, skus, found));
  }
}

/** The view of `lines` (SKUs in `skus` order) with the prices found (SKUs absent: no longer sold). */
function priced(lines: Map<string, number>, skus: string[], found: VariantPrice[]): CartView {
  const variants = new Map<string, VariantPrice>(found.map((v) => [v.sku, v]));
  const items: CartLineView[] = skus.map((sku) => {
    const quantity = lines.get(sku)!;
    const v = variants.get(sku);
    if (!v)
      return {
        sku,
        quantity,
        productId: null,
        productName: null,
        unitPrice: null,
        lineTotal: null,
        currency: null,
        available: false,
        problem: 'UNKNOWN_SKU',
      };
    return {
      sku,
      quantity,
      productId: v.productId,
      productName: v.productName,
      unitPrice: v.price,
      lineTotal: v.price * quantity,
      currency: v.currency,
      available: v.active,
      problem: v.active ? null : 'INACTIVE',
    };
  });
  const available = items.filter((i) => i.available);
  const currencies = [...new Set(available.map((i) => i.currency!))];
  return {
    items,
    subtotal:
      currencies.length === 1
        ? { amount: available.reduce((s, i) => s + i.lineTotal!, 0), currency: currencies[0] }
        : null,
    totalQuantity: items.reduce((s, i) => s + i.quantity, 0),
    orderable: items.length > 0 && available.length === items.length && currencies.length === 1,
  };
}

function checkLine(sku: string, quantity: number, min: number): void {
  if (typeof sku !== 'string' || !SKU_PATTERN.test(sku))
    throw new ValidationFailedError('sku: must be a SKU (1-64 of A-Z a-z 0-9 . _ -)');
  if (!Number.isSafeInteger(quantity) || quantity < min || quantity > MAX_LINE_QUANTITY)
    throw new ValidationFailedError(`quantity: an integer from ${min} to ${MAX_LINE_QUANTITY}`);
}
