import { allocate, divRoundHalfUp } from '../tax';
import { CouponExhaustedError, CouponNotApplicableError } from './coupons.errors';
import type { CouponLine, CouponView } from './coupon.types';

/**
 * What `coupon` takes off an order of `lines` in `currency` at `now` (pure; throws the reason it
 * does not apply). Rules, in order:
 * - it must be active, started and not ended, and (advisory here, decided by the order's batch)
 *   not used up;
 * - a coupon with a currency applies only to orders in that currency;
 * - the minimum is compared with the subtotal of ALL lines, before any discount;
 * - only eligible lines are discounted (every line, or those whose SKU is listed or whose
 *   product sits in a listed category or below it); none eligible → not applicable;
 * - percentage: round half up of (eligible subtotal × percent / 100), once for the order;
 *   fixed: the amount, at most the eligible subtotal (a discount never makes goods negative);
 * - the discount is spread over the eligible lines in proportion to their amounts (largest
 *   remainder, so the shares add up exactly), which is what each line's tax is computed on.
 */
export function discountFor(
  coupon: CouponView,
  lines: CouponLine[],
  currency: string,
  now: Date,
): { discount: number; perLine: number[] } {
  const no = (reason: string) => new CouponNotApplicableError(coupon.code, reason);
  if (!coupon.active) throw no('it is not active');
  if (new Date(coupon.startsAt) > now) throw no(`it starts at ${coupon.startsAt}`);
  if (coupon.endsAt && new Date(coupon.endsAt) <= now) throw no(`it ended at ${coupon.endsAt}`);
  if (coupon.usageLimit !== null && coupon.used >= coupon.usageLimit)
    throw new CouponExhaustedError(coupon.code);
  if (coupon.currency && coupon.currency !== currency) throw no(`it is for orders in ${coupon.currency}`);
  const subtotal = lines.reduce((s, l) => s + l.amount, 0);
  if (subtotal < coupon.minSubtotal)
    throw no(`the order must cost at least ${coupon.minSubtotal} (minor units)`);
  const restricted = !!(coupon.skus?.length || coupon.categoryIds?.length);
  const eligible = lines.map(
    (l) =>
      !restricted ||
      !!coupon.skus?.includes(l.sku) ||
      !!coupon.categoryIds?.some((c) => l.categoryIds.includes(c)),
  );
  const base = lines.reduce((s, l, i) => s + (eligible[i] ? l.amount : 0), 0);
  if (base === 0) throw no('no item of the order is eligible');
  const discount =
    coupon.kind === 'percentage'
      ? Number(divRoundHalfUp(BigInt(base) * BigInt(coupon.percentOff ?? 0), 100n))
      : Math.min(coupon.amountOff ?? 0, base);
  const perLine = allocate(
    discount,
    lines.map((l, i) => (eligible[i] ? l.amount : 0)),
  );
  return { discount, perLine };
}
