import { normalizeLines } from './inventory.service';
import { alertHour } from './low-stock-alerts';

const line = (sku: string, quantity: number) => ({ sku, quantity });

describe('normalizeLines', () => {
  it('merges lines per SKU and sorts by SKU, the one lock order of every stock transaction', () => {
    expect(normalizeLines([line('B', 1), line('A', 2), line('B', 3)])).toEqual([line('A', 2), line('B', 4)]);
  });

  it('rejects non-positive or fractional quantities and empty SKUs', () => {
    for (const quantity of [0, -1, 1.5, Number.NaN])
      expect(() => normalizeLines([line('A', quantity)])).toThrow(/positive integer/);
    expect(() => normalizeLines([line('', 1)])).toThrow();
  });
});

describe('alertHour', () => {
  it('is the UTC hour, so the dedupe key allows one alert per SKU per hour', () => {
    expect(alertHour(new Date('2026-11-23T09:59:59.999Z'))).toBe('2026112309');
    expect(alertHour(new Date('2026-11-23T10:00:00.000Z'))).toBe('2026112310');
  });
});
