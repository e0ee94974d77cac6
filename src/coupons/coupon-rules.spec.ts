import { discountFor } from './coupon-rules';
import type { CouponView } from './coupon.types';

const now = new Date('2026-12-06T12:00:00Z');
const base: CouponView = {
  id: 'c1',
  code: 'SAVE20',
  kind: 'percentage',
  percentOff: 20,
  amountOff: null,
  currency: null,
  minSubtotal: 0,
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: null,
  usageLimit: null,
  perCustomerLimit: null,
  used: 0,
  skus: null,
  categoryIds: null,
  active: true,
};
const lines = [
  { sku: 'A', categoryIds: ['shoes', 'clothing'], amount: 1999 },
  { sku: 'B', categoryIds: ['hats'], amount: 1000 },
];

describe('coupon rules', () => {
  it('percentage: half up once on the eligible subtotal, shared over lines that add up exactly', () => {
    const d = discountFor(base, lines, 'EUR', now);
    expect(d.discount).toBe(600); // 20 % of 2999 = 599.8 → 600
    expect(d.perLine).toEqual([400, 200]);
    expect(
      discountFor({ ...base, percentOff: 15 }, [{ sku: 'A', categoryIds: [], amount: 10 }], 'EUR', now)
        .discount,
    ).toBe(2); // 1.5 → 2
  });

  it('fixed: at most the eligible subtotal, in its currency only', () => {
    const fixed = { ...base, kind: 'fixed' as const, percentOff: null, amountOff: 500, currency: 'EUR' };
    expect(discountFor(fixed, lines, 'EUR', now)).toEqual({ discount: 500, perLine: [333, 167] });
    expect(discountFor({ ...fixed, amountOff: 10_000 }, lines, 'EUR', now).discount).toBe(2999);
    expect(() => discountFor(fixed, lines, 'USD', now)).toThrow(/orders in EUR/);
  });

  it('restricted to SKUs or categories (ancestors included): only those lines are discounted', () => {
    expect(discountFor({ ...base, skus: ['B'] }, lines, 'EUR', now)).toEqual({
      discount: 200,
      perLine: [0, 200],
    });
    expect(discountFor({ ...base, categoryIds: ['clothing'] }, lines, 'EUR', now)).toEqual({
      discount: 400,
      perLine: [400, 0],
    });
    expect(() => discountFor({ ...base, skus: ['Z'] }, lines, 'EUR', now)).toThrow(
      expect.objectContaining({ code: 'COUPON_NOT_APPLICABLE' }),
    );
  });

  it('refuses before its start, after its end, inactive, under the minimum, used up', () => {
    const code = (c: Partial<CouponView>) => {
      try {
        discountFor({ ...base, ...c }, lines, 'EUR', now);
        return 'applies';
      } catch (err) {
        return (err as { code: string }).code;
      }
    };
    expect(code({ startsAt: '2026-12-07T00:00:00.000Z' })).toBe('COUPON_NOT_APPLICABLE');
    expect(code({ endsAt: '2026-12-06T12:00:00.000Z' })).toBe('COUPON_NOT_APPLICABLE');
    expect(code({ endsAt: '2026-12-06T12:00:00.001Z' })).toBe('applies');
    expect(code({ active: false })).toBe('COUPON_NOT_APPLICABLE');
    expect(code({ minSubtotal: 3000 })).toBe('COUPON_NOT_APPLICABLE');
    expect(code({ minSubtotal: 2999 })).toBe('applies');
    expect(code({ usageLimit: 5, used: 5 })).toBe('COUPON_EXHAUSTED');
  });
});
