import { ConflictError, ValidationFailedError } from '../common/errors/domain-error';
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES, SKU_PATTERN } from '../common/order-size';
import type { CheckoutOptions } from '../checkout';
import { normalizeLines, type StockLine } from '../inventory';
import { requestHash } from './idempotency.store';

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
  for (const [i, it] of items.entries()) {
    if (typeof it?.sku !== 'string' || !SKU_PATTERN.test(it.sku))
      throw new ValidationFailedError(`items.${i}.sku: must be a SKU (1-64 of A-Z a-z 0-9 . _ -)`);
    if (!Number.isSafeInteger(it.quantity) || it.quantity < 1 || it.quantity > MAX_LINE_QUANTITY)
      throw new ValidationFailedError(
        `items.${i}.quantity: must be an integer from 1 to ${MAX_LINE_QUANTITY}`,
      );
  }
  // Merged and sorted as inventory locks stock rows (one order for every transaction).
  const lines = normalizeLines(items.map(({ sku, quantity }) => ({ sku, quantity })));
  const over = lines.find((l) => l.quantity > MAX_LINE_QUANTITY);
  if (over)
    throw new ValidationFailedError(
      `items: at most ${MAX_LINE_QUANTITY} units of one SKU per order (${over.sku}: ${over.quantity}; lines of the same SKU are added up)`,
      [{ field: 'items', errors: [`${over.sku}: ${over.quantity} units, at most ${MAX_LINE_QUANTITY}`] }],
    );
  return lines;
}

/** A JSON null in an optional field means "not given". */
export function withoutNulls<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as {
    [K in keyof T]: Exclude<T[K], null>;
  };
}

/** `items` or `fromCart: true`, exactly one; returns whether the lines come from the cart. */
export function checkLineSource(req: CreateOrderInput): boolean {
  const fromCart = req.fromCart === true;
  if (fromCart && req.items !== undefined)
    throw new ValidationFailedError('Give items or fromCart, not both');
  if (!fromCart && req.items === undefined)
    throw new ValidationFailedError('items: an order needs at least one item (or fromCart: true)');
  return fromCart;
}
