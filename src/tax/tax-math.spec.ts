import { allocate, divRoundHalfUp, lineTax } from './tax-math';

describe('tax arithmetic (integer minor units, round half up per line)', () => {
  it('rounds halves up and everything else to the nearest unit', () => {
    expect(divRoundHalfUp(5n, 10n)).toBe(1n); // 0.5 → 1
    expect(divRoundHalfUp(15n, 10n)).toBe(2n); // 1.5 → 2
    expect(divRoundHalfUp(25n, 10n)).toBe(3n); // 2.5 → 3 (not banker's 2)
    expect(divRoundHalfUp(149n, 100n)).toBe(1n);
    expect(divRoundHalfUp(0n, 7n)).toBe(0n);
  });

  it('net prices: tax = round(amount × rate)', () => {
    expect(lineTax(1000, 1900, false)).toBe(190);
    expect(lineTax(1, 1900, false)).toBe(0); // 0.19 → 0
    expect(lineTax(3, 1900, false)).toBe(1); // 0.57 → 1
    expect(lineTax(50, 1000, false)).toBe(5);
    expect(lineTax(5, 1000, false)).toBe(1); // exactly 0.5 → 1
    expect(lineTax(25, 1000, false)).toBe(3); // 2.5 → 3
    expect(lineTax(1999, 700, false)).toBe(140); // 139.93 → 140
  });

  it('gross prices: tax = amount − round(amount / (1 + rate)), so net + tax is the price', () => {
    expect(lineTax(1190, 1900, true)).toBe(190);
    expect(lineTax(1000, 1900, true)).toBe(160); // net 840.34 → 840
    expect(lineTax(1, 1900, true)).toBe(0); // net 0.84 → 1
    expect(lineTax(107, 700, true)).toBe(7);
    expect(lineTax(2598, 1900, true)).toBe(415); // net 2183.19 → 2183
    // 21 / 1.05 = 20 exactly; 63 / 1.05 = 60; 10.5 / 1.05: half cases land on whole nets
    expect(lineTax(21, 500, true)).toBe(1);
  });

  it('a zero rate or amount is no tax; 100 % is allowed; bad input throws', () => {
    expect(lineTax(1234, 0, false)).toBe(0);
    expect(lineTax(0, 1900, true)).toBe(0);
    expect(lineTax(100, 10000, false)).toBe(100);
    expect(lineTax(100, 10000, true)).toBe(50);
    expect(() => lineTax(-1, 1900, false)).toThrow(RangeError);
    expect(() => lineTax(1.5, 1900, false)).toThrow(RangeError);
    expect(() => lineTax(100, 10001, false)).toThrow(RangeError);
  });

  it('stays exact beyond 2^53 intermediate products', () => {
    const amount = 2_000_000_000 * 1000; // the largest line: max price × max quantity
    expect(lineTax(amount, 1900, false)).toBe(380_000_000_000);
    expect(lineTax(amount, 1900, true)).toBe(amount - 1_680_672_268_908);
  });

  it('allocates in proportion, summing exactly, remainders to the largest fractions then the earlier line', () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocate(10, [500, 300, 200])).toEqual([5, 3, 2]);
    expect(allocate(7, [1000, 0, 1000])).toEqual([4, 0, 3]);
    expect(allocate(0, [1, 2])).toEqual([0, 0]);
    expect(allocate(5, [0, 0])).toEqual([0, 0]);
    const parts = allocate(999, [333, 777, 1, 12345]);
    expect(parts.reduce((s, x) => s + x, 0)).toBe(999);
  });
});
