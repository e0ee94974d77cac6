import type { PostalAddress } from '../addresses';
import type { Breakdown, PricedLine } from '../checkout';
import type { OrderStatus } from './order-state';

/**
 * The orders module's view types: what its services answer and its adapters translate (plain
 * interfaces; the DTO classes of the REST API are in *.dto.ts, the statement inputs in the repository).
 */

export interface OrderItemView {
  sku: string;
  productName: string;
  quantity: number;
  unitPrice: number;
  currency: string;
  /** unitPrice × quantity. */
  lineTotal: number;
  /** This line's share of the coupon's discount. */
  discount: number;
  /** Tax of (lineTotal − discount) at taxRateBp, rounded half up for the line (docs/checkout.md). */
  tax: number;
  taxRateBp: number;
}

/** A postal address as the order copied it (the address book's fields). */
export type OrderAddress = PostalAddress;

/** The order's price, all in minor units of `currency`; `total` equals the order's `total.amount`. */
export type OrderBreakdown = Breakdown;

export interface OrderView {
  id: string;
  userId: string;
  status: OrderStatus;
  items: OrderItemView[];
  total: { amount: number; currency: string };
  createdAt: string;
  source: 'web' | 'flash_sale';
  breakdown: OrderBreakdown;
  /** The country the tax was computed for (the address's, or the shop's home country). */
  taxCountry: string | null;
  shippingAddress: OrderAddress | null;
  shippingMethod: { code: string; name: string } | null;
  coupon: { code: string } | null;
  /** A flash-sale order of a buyer with no default address: give one (PUT /orders/:id/address) before paying. */
  awaitingAddress: boolean;
}

/** An order as stored, with what the service needs beyond the public view. */
export interface OrderRecord extends OrderView {
  flashSaleId: string | null;
  reservationId: string | null;
  paymentId: string | null;
}

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

/** A price quote: the order it would be, not placed. */
export interface QuoteView {
  items: PricedLine[];
  breakdown: Breakdown;
  taxCountry: string;
  shippingAddress: OrderAddress | null;
  shippingMethod: { code: string; name: string } | null;
  coupon: { code: string } | null;
}
