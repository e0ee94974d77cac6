import type { PricedOrder } from '../checkout';
import type { StockLine } from '../inventory';
import type { NewOrder } from './orders.repository';
import type { OrderRecord } from './orders.types';

/** The stock lines of an order. */
export const linesOf = (o: OrderRecord): StockLine[] =>
  o.items.map((i) => ({ sku: i.sku, quantity: i.quantity }));

/** The record a new order will be once inserted (for the outbox event and the answer). */
export function recordOf(o: NewOrder): OrderRecord {
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
export function newOrderOf(
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
