import { ConflictError } from '../common/errors/domain-error';

export type OrderStatus = 'PENDING_PAYMENT' | 'PAID' | 'FULFILLED' | 'CANCELLED' | 'EXPIRED' | 'REFUNDED';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'PENDING_PAYMENT',
  'PAID',
  'FULFILLED',
  'CANCELLED',
  'EXPIRED',
  'REFUNDED',
];

/** The order lifecycle. Anything not listed is illegal. */
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING_PAYMENT: ['PAID', 'CANCELLED', 'EXPIRED'],
  PAID: ['FULFILLED', 'REFUNDED'],
  // A fully refunded delivery (e.g. returned goods): restocking is the refund's choice.
  FULFILLED: ['REFUNDED'],
  CANCELLED: [],
  EXPIRED: [],
  REFUNDED: [],
};

export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => TRANSITIONS[from].includes(to);

/** No transition leaves these. */
export const isFinal = (s: OrderStatus): boolean => TRANSITIONS[s].length === 0;

/** The statuses an order may be in for a move to `to` (the WHERE of the conditional UPDATE). */
export const sourcesOf = (to: OrderStatus): OrderStatus[] =>
  ORDER_STATUSES.filter((s) => TRANSITIONS[s].includes(to));

export class IllegalTransitionError extends ConflictError {
  constructor(orderId: string, from: OrderStatus, to: OrderStatus) {
    super('ILLEGAL_TRANSITION', `Order ${orderId} cannot go from ${from} to ${to}`, { from, to });
  }
}

export function assertTransition(orderId: string, from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(orderId, from, to);
}
