/**
 * The payment and refund lifecycles, as `orders/order-state.ts` is the order's: every status
 * change is a conditional UPDATE whose WHERE is `status IN (sourcesOf(to))`, so concurrent
 * deliveries (a webhook and its duplicate, a webhook and reconciliation, a cancel and a capture)
 * are decided by the row the database matched, never by a status read earlier.
 */
export type PaymentStatus =
  'PENDING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';

/** The payment lifecycle. Anything not listed is illegal. */
const TRANSITIONS: Record<PaymentStatus, readonly PaymentStatus[]> = {
  PENDING: ['SUCCEEDED', 'FAILED', 'CANCELLED'],
  // A capture is money taken, whatever we recorded before: a failure reported first (a declined
  // card retried with a good one, or the two events out of order) or a cancellation that lost the
  // race against the capture. Such a capture is refunded if its order can no longer be paid.
  FAILED: ['SUCCEEDED'],
  CANCELLED: ['SUCCEEDED'],
  SUCCEEDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  // A further partial refund keeps it PARTIALLY_REFUNDED until the refunds add up to the capture.
  PARTIALLY_REFUNDED: ['PARTIALLY_REFUNDED', 'REFUNDED'],
  REFUNDED: [],
};

export const PAYMENT_STATUSES = Object.keys(TRANSITIONS) as readonly PaymentStatus[];

export const canTransition = (from: PaymentStatus, to: PaymentStatus): boolean =>
  TRANSITIONS[from].includes(to);

/** The statuses a payment may be in for a move to `to` (the WHERE of the conditional UPDATE). */
export const sourcesOf = (to: PaymentStatus): PaymentStatus[] =>
  PAYMENT_STATUSES.filter((s) => TRANSITIONS[s].includes(to));

/**
 * Whether a payment in `status` holds its order's one active-payment slot (`active_order_id`,
 * a UNIQUE key): while it may still be captured or has been. A failed or cancelled one gives the
 * slot up, so the customer can open another payment; a late capture does not take it back.
 */
export const releasesOrder = (status: PaymentStatus): boolean =>
  status === 'FAILED' || status === 'CANCELLED';

/** Captured money can be reserved for a refund only from these (the sources of a refund). */
export const REFUNDABLE: readonly PaymentStatus[] = sourcesOf('REFUNDED');

/**
 * Payments the PSP may still capture, which must be closed there once their order is paid,
 * expired or cancelled: PENDING ones, and FAILED ones (a real PSP keeps a declined payment open
 * for another card).
 */
export const OPEN_AT_PROVIDER: readonly PaymentStatus[] = ['PENDING', 'FAILED'];

/** The payment's status once its succeeded refunds add up to `refundedTotal` of `captured`. */
export const afterRefund = (refundedTotal: number, captured: number): PaymentStatus =>
  refundedTotal >= captured ? 'REFUNDED' : 'PARTIALLY_REFUNDED';

export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/**
 * A refund reserves its amount on the payment first (PENDING), then the PSP moves the money
 * (SUCCEEDED) or refuses (FAILED: the reservation is released). A PENDING refund whose outcome
 * is unknown stays PENDING and is retried with the same idempotency key.
 */
const REFUND_TRANSITIONS: Record<RefundStatus, readonly RefundStatus[]> = {
  PENDING: ['SUCCEEDED', 'FAILED'],
  SUCCEEDED: [],
  FAILED: [],
};

export const REFUND_STATUSES = Object.keys(REFUND_TRANSITIONS) as readonly RefundStatus[];

export const refundSourcesOf = (to: RefundStatus): RefundStatus[] =>
  REFUND_STATUSES.filter((s) => REFUND_TRANSITIONS[s].includes(to));
