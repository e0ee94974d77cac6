export type CouponKind = 'percentage' | 'fixed';

/** A coupon's definition (what checkout prices with; `used` is the live counter, admin views only). */
export interface CouponView {
  id: string;
  code: string;
  kind: CouponKind;
  /** percentage: 1-100. */
  percentOff: number | null;
  /** fixed: minor units, in `currency`. */
  amountOff: number | null;
  /** Required for fixed coupons and for a minimum subtotal; null = any currency. */
  currency: string | null;
  /** The order's goods (before discount) must cost at least this. */
  minSubtotal: number;
  startsAt: string;
  endsAt: string | null;
  /** Orders that may use it in total; null = unlimited. */
  usageLimit: number | null;
  /** Orders one customer may use it for; null = unlimited. */
  perCustomerLimit: number | null;
  used: number;
  /** Only these SKUs (and/or products of these categories, subcategories included) are discounted; null = all. */
  skus: string[] | null;
  categoryIds: string[] | null;
  active: boolean;
}

export interface CouponInput {
  code: string;
  kind: CouponKind;
  percentOff?: number | null;
  amountOff?: number | null;
  currency?: string | null;
  minSubtotal?: number;
  startsAt?: string;
  endsAt?: string | null;
  usageLimit?: number | null;
  perCustomerLimit?: number | null;
  skus?: string[] | null;
  categoryIds?: string[] | null;
  active?: boolean;
}

/** A line as the coupon sees it. */
export interface CouponLine {
  sku: string;
  /** The product's category and its ancestors. */
  categoryIds: string[];
  /** unit price × quantity. */
  amount: number;
}

/** What a coupon takes off an order: the total and its share per line (same order as the lines). */
export interface CouponDiscount {
  couponId: string;
  code: string;
  discount: number;
  perLine: number[];
  /** For the redemption statements. */
  perCustomerLimit: number | null;
}
