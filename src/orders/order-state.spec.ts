import {
  IllegalTransitionError,
  ORDER_STATUSES,
  OrderStatus,
  assertTransition,
  canTransition,
  isFinal,
  sourcesOf,
} from './order-state';

describe('order state machine', () => {
  const legal: [OrderStatus, OrderStatus][] = [
    ['PENDING_PAYMENT', 'PAID'],
    ['PENDING_PAYMENT', 'CANCELLED'],
    ['PENDING_PAYMENT', 'EXPIRED'],
    ['PAID', 'FULFILLED'],
    ['PAID', 'REFUNDED'],
    ['FULFILLED', 'REFUNDED'],
  ];

  it('allows exactly the lifecycle transitions', () => {
    for (const from of ORDER_STATUSES)
      for (const to of ORDER_STATUSES)
        expect([from, to, canTransition(from, to)]).toEqual([
          from,
          to,
          legal.some(([f, t]) => f === from && t === to),
        ]);
  });

  it('treats cancelled, expired and refunded as final (a fulfilled order can still be refunded)', () => {
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(['CANCELLED', 'EXPIRED', 'REFUNDED']);
  });

  it('names the source statuses of a target status for conditional updates', () => {
    expect(sourcesOf('PAID')).toEqual(['PENDING_PAYMENT']);
    expect(sourcesOf('REFUNDED')).toEqual(['PAID', 'FULFILLED']);
    expect(sourcesOf('PENDING_PAYMENT')).toEqual([]);
  });

  it('throws ILLEGAL_TRANSITION (a conflict) for an illegal move', () => {
    expect(() => assertTransition('o1', 'CANCELLED', 'PAID')).toThrow(IllegalTransitionError);
    let caught: unknown;
    try {
      assertTransition('o1', 'EXPIRED', 'CANCELLED');
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ kind: 'conflict', code: 'ILLEGAL_TRANSITION' });
    expect(() => assertTransition('o1', 'PAID', 'REFUNDED')).not.toThrow();
  });
});
