import { allocate, divRoundHalfUp } from '../tax';
import type { Breakdown, PricedOrder, RefundSplit } from './checkout.types';

/** The public breakdown of a priced order. */
export const breakdownOf = (p: PricedOrder): Breakdown => ({
  subtotal: p.subtotal,
  discount: p.discount,
  shipping: p.shipping,
  tax: p.tax,
  taxIncluded: p.taxIncluded,
  total: p.total,
  currency: p.currency,
});

/** subtotal − discount + shipping, plus the tax when prices do not include it. */
export function totalOf(b: {
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  taxIncluded: boolean;
}): number {
  return b.subtotal - b.discount + b.shipping + (b.taxIncluded ? 0 : b.tax);
}

/**
 * Splits a refund of `amount` (≤ the order's total) into goods, shipping and tax in proportion to
 * what the customer paid for each, net of tax: with prices including tax, the goods' and the
 * shipping's tax are taken out of them first. The three add up to `amount` exactly (largest
 * remainder, ties to goods, then shipping). `discount` says how much of the order's discount
 * belongs to the refunded goods (round half up): it is not money, it is already netted in goods.
 */
export function splitRefund(
  b: {
    subtotal: number;
    discount: number;
    shipping: number;
    tax: number;
    shippingTax: number;
    taxIncluded: boolean;
    total: number;
  },
  amount: number,
): RefundSplit {
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > b.total)
    throw new RangeError(`refund ${amount} outside 0..${b.total}`);
  const goodsTax = b.tax - b.shippingTax;
  const goodsNet = b.subtotal - b.discount - (b.taxIncluded ? goodsTax : 0);
  const shippingNet = b.shipping - (b.taxIncluded ? b.shippingTax : 0);
  const [goods, shipping, tax] = allocate(amount, [goodsNet, shippingNet, b.tax]);
  const discount =
    goodsNet > 0 ? Number(divRoundHalfUp(BigInt(b.discount) * BigInt(goods), BigInt(goodsNet))) : 0;
  return { goods, shipping, tax, discount: Math.min(discount, b.discount) };
}

/**
 * {@link splitRefund} for a placed order as orders answer it: the shipping's tax is what the
 * lines' taxes leave of the order's tax. Undefined when the refund is not a part of the order's
 * total (a capture of another amount).
 */
export function refundSplitOf(
  order: {
    breakdown: Omit<Breakdown, 'currency'>;
    items: { tax: number }[];
  },
  amount: number,
): RefundSplit | undefined {
  const b = order.breakdown;
  if (!Number.isSafeInteger(amount) || amount < 0 || amount > b.total) return undefined;
  const shippingTax = b.tax - order.items.reduce((s, i) => s + i.tax, 0);
  return splitRefund({ ...b, shippingTax }, amount);
}
