/** The coupons module's public API. */
export { CouponsModule } from './coupons.module';
export { CouponsService, normalizeCode } from './coupons.service';
export type { CouponDiscount, CouponLine, CouponView } from './coupon.types';
export {
  CouponExhaustedError,
  CouponLimitReachedError,
  CouponNotApplicableError,
  CouponNotFoundError,
} from './coupons.errors';
