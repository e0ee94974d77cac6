/** The checkout (pricing) module's public API. */
export { CheckoutModule } from './checkout.module';
export { CheckoutService } from './checkout.service';
export { PriceChangedError } from './checkout.errors';
export { breakdownOf, refundSplitOf, splitRefund, totalOf } from './pricing';
export type { Breakdown, CheckoutOptions, PricedLine, PricedOrder, RefundSplit } from './checkout.types';
