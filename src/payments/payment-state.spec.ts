import {
  OPEN_AT_PROVIDER,
  PAYMENT_STATUSES,
  REFUNDABLE,
  afterRefund,
  canTransition,
  refundSourcesOf,
  releasesOrder,
  sourcesOf,
} from './payment-state';

describe('payment-state', () => {
  it('gives each move the sources its conditional UPDATE accepts', () => {
    expect(sourcesOf('PENDING')).toEqual([]);
    // A capture wins over a failure reported first and over a cancellation that lost the race.
    expect(sourcesOf('SUCCEEDED')).toEqual(['PENDING', 'FAILED', 'CANCELLED']);
    expect(sourcesOf('FAILED')).toEqual(['PENDING']);
    expect(sourcesOf('CANCELLED')).toEqual(['PENDING']);
    expect(sourcesOf('PARTIALLY_REFUNDED')).toEqual(['SUCCEEDED', 'PARTIALLY_REFUNDED']);
    expect(sourcesOf('REFUNDED')).toEqual(['SUCCEEDED', 'PARTIALLY_REFUNDED']);
  });

  it('never leaves REFUNDED, and never goes back to PENDING', () => {
    for (const to of PAYMENT_STATUSES) {
      expect(canTransition('REFUNDED', to)).toBe(false);
      expect(canTransition(to, 'PENDING')).toBe(false);
    }
    // A failure after a capture changes nothing.
    expect(canTransition('SUCCEEDED', 'FAILED')).toBe(false);
  });

  it('refunds only captured money, and closes at the PSP what it may still capture', () => {
    expect(REFUNDABLE).toEqual(['SUCCEEDED', 'PARTIALLY_REFUNDED']);
    expect(OPEN_AT_PROVIDER).toEqual(['PENDING', 'FAILED']);
  });

  it("frees the order's active-payment slot only on FAILED and CANCELLED", () => {
    expect(PAYMENT_STATUSES.filter(releasesOrder)).toEqual(['FAILED', 'CANCELLED']);
  });

  it('is REFUNDED once the refunds add up to the capture, PARTIALLY_REFUNDED before', () => {
    expect(afterRefund(400, 1000)).toBe('PARTIALLY_REFUNDED');
    expect(afterRefund(1000, 1000)).toBe('REFUNDED');
  });

  it('lets a refund leave PENDING once, to SUCCEEDED or FAILED', () => {
    expect(refundSourcesOf('SUCCEEDED')).toEqual(['PENDING']);
    expect(refundSourcesOf('FAILED')).toEqual(['PENDING']);
    expect(refundSourcesOf('PENDING')).toEqual([]);
  });
});
