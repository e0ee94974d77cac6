import { ValidationFailedError } from '../common/errors/domain-error';
import { isCapViolation } from './order-limits';
import { normalizeItems } from './orders.service';

describe('normalizeItems: one SKU, one line, before every per-SKU limit', () => {
  it('adds up lines of the same SKU and sorts by SKU', () => {
    expect(
      normalizeItems([
        { sku: 'B', quantity: 2 },
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 5 },
    ]);
  });

  it('refuses five lines of 1000 of one SKU (5000 > 1000 per SKU per order), naming the SKU', () => {
    const items = Array.from({ length: 5 }, () => ({ sku: 'HOARD', quantity: 1000 }));
    expect(() => normalizeItems(items)).toThrow(ValidationFailedError);
    expect(() => normalizeItems(items)).toThrow(/HOARD: 5000/);
    expect(
      normalizeItems([
        { sku: 'HOARD', quantity: 600 },
        { sku: 'HOARD', quantity: 400 },
      ]),
    ).toEqual([{ sku: 'HOARD', quantity: 1000 }]);
    expect(() =>
      normalizeItems([
        { sku: 'HOARD', quantity: 600 },
        { sku: 'HOARD', quantity: 401 },
      ]),
    ).toThrow(/HOARD: 1001/);
  });
});

describe('isCapViolation', () => {
  it('recognises the CHECK of order_holds on MySQL 8.4 and MariaDB 10.11, nothing else', () => {
    expect(
      isCapViolation({ errno: 3819, message: "Check constraint 'chk_order_holds_cap' is violated." }),
    ).toBe(true);
    expect(
      isCapViolation({
        errno: 4025,
        message: 'CONSTRAINT `chk_order_holds_cap` failed for `shop`.`order_holds`',
      }),
    ).toBe(true);
    expect(isCapViolation({ errno: 3819, message: "Check constraint 'chk_orders_total' is violated." })).toBe(
      false,
    );
    expect(isCapViolation({ errno: 1048, message: "Column 'delta_reserved' cannot be null" })).toBe(false);
    expect(isCapViolation(undefined)).toBe(false);
  });
});
