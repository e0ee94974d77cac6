import { ValidationFailedError } from '../common/errors/domain-error';
import type { AppConfig } from '../infra/config/app-config';
import { OrderCapsPolicy, isCapViolation } from './order-limits';
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

describe('OrderCapsPolicy: tighter caps until the email address is verified', () => {
  const policy = (verified: [number, number], unverified: [number, number]) =>
    new OrderCapsPolicy({
      orders: {
        limits: {
          maxUnpaidOrders: verified[0],
          maxUnpaidUnitsPerSku: verified[1],
          unverified: { maxUnpaidOrders: unverified[0], maxUnpaidUnitsPerSku: unverified[1] },
        },
      },
    } as unknown as AppConfig);

  it('a verified customer gets the configured caps', () => {
    expect(policy([5, 50], [2, 10]).capsFor({ id: 'u', emailVerified: true })).toEqual({
      maxUnpaidOrders: 5,
      maxUnpaidUnitsPerSku: 50,
    });
  });

  it('an unverified one (or a token without the claim) the unverified caps', () => {
    for (const emailVerified of [false, undefined])
      expect(policy([5, 50], [2, 10]).capsFor({ id: 'u', emailVerified })).toEqual({
        maxUnpaidOrders: 2,
        maxUnpaidUnitsPerSku: 10,
      });
  });

  it('never looser than the verified caps', () => {
    expect(policy([1, 3], [2, 10]).capsFor({ id: 'u' })).toEqual({
      maxUnpaidOrders: 1,
      maxUnpaidUnitsPerSku: 3,
    });
  });
});
