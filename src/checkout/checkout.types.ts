import type { CouponDiscount } from '../coupons';
import type { PostalAddress } from '../addresses';

/** What a customer sends to price (quote) or place an order, beyond its lines. */
export interface CheckoutOptions {
  /** An address of the caller's book... */
  addressId?: string;
  /** ...or one given inline (checked like the book's). At most one of the two. */
  shippingAddress?: Partial<Record<keyof PostalAddress, unknown>>;
  /** A shipping method code; required with an address, refused without one. */
  shippingMethod?: string;
  couponCode?: string;
}

export interface PricedLine {
  sku: string;
  productId: string | null;
  productName: string;
  quantity: number;
  unitPrice: number;
  /** unitPrice × quantity. */
  lineTotal: number;
  /** This line's share of the coupon's discount. */
  discount: number;
  taxRateBp: number;
  /** Tax of (lineTotal − discount), rounded half up once for the line. */
  tax: number;
}

/** The price of an order, every amount in minor units of `currency` (docs/checkout.md). */
export interface PricedOrder {
  currency: string;
  lines: PricedLine[];
  subtotal: number;
  discount: number;
  shipping: number;
  /** Tax of the shipping charge (part of `tax`). */
  shippingTax: number;
  shippingTaxRateBp: number;
  tax: number;
  /** True: prices include tax (tax is shown, not added). False: tax is added to the total. */
  taxIncluded: boolean;
  /** subtotal − discount + shipping (+ tax when not included). */
  total: number;
  /** Where the tax was computed for: the shipping address's country, or the shop's home country. */
  taxCountry: string;
  shippingAddress: PostalAddress | null;
  shippingMethod: { code: string; name: string } | null;
  coupon: CouponDiscount | null;
}

/** The public breakdown (what quotes and orders show). */
export interface Breakdown {
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  taxIncluded: boolean;
  total: number;
  currency: string;
}

/** How a refund of part of an order's total divides (docs/checkout.md, "Refunds"). */
export interface RefundSplit {
  goods: number;
  shipping: number;
  tax: number;
  /** The part of the order's discount given on the refunded goods (information: already netted in `goods`). */
  discount: number;
}
