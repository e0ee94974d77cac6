import { refundSplitOf, splitRefund, totalOf } from './pricing';

describe('order totals and refund splits', () => {
  it('total: tax added only when prices exclude it', () => {
    expect(totalOf({ subtotal: 10000, discount: 2000, shipping: 490, tax: 1613, taxIncluded: true })).toBe(
      8490,
    );
    expect(totalOf({ subtotal: 10000, discount: 2000, shipping: 490, tax: 1613, taxIncluded: false })).toBe(
      10103,
    );
  });

  it('a full refund splits into exactly what was paid for goods, shipping and tax (gross prices)', () => {
    // goods 8000 gross (tax 1277), shipping 490 gross (tax 78): paid 8490.
    const b = {
      subtotal: 10000,
      discount: 2000,
      shipping: 490,
      tax: 1355,
      shippingTax: 78,
      taxIncluded: true,
      total: 8490,
    };
    expect(splitRefund(b, 8490)).toEqual({ goods: 6723, shipping: 412, tax: 1355, discount: 2000 });
  });

  it('a partial refund is proportional and adds up to the amount (net prices)', () => {
    const b = {
      subtotal: 5000,
      discount: 500,
      shipping: 500,
      tax: 950,
      shippingTax: 95,
      taxIncluded: false,
      total: 5950,
    };
    const s = splitRefund(b, 1000);
    expect(s.goods + s.shipping + s.tax).toBe(1000);
    expect(s).toEqual({ goods: 756, shipping: 84, tax: 160, discount: 84 });
    expect(splitRefund(b, 0)).toEqual({ goods: 0, shipping: 0, tax: 0, discount: 0 });
    expect(() => splitRefund(b, 5951)).toThrow(RangeError);
  });

  it('a placed order: the shipping tax is what the lines leave of the order tax', () => {
    const order = {
      breakdown: { subtotal: 7498, discount: 750, shipping: 490, tax: 1105, taxIncluded: true, total: 7238 },
      items: [{ tax: 900 }, { tax: 123 }],
    };
    expect(refundSplitOf(order, 1000)).toEqual({ goods: 791, shipping: 56, tax: 153, discount: 104 });
    expect(refundSplitOf(order, 7238)).toEqual({ goods: 5725, shipping: 408, tax: 1105, discount: 750 });
    expect(refundSplitOf(order, 7239)).toBeUndefined();
  });

  it('orders without a breakdown (subtotal = total, nothing else) refund as goods', () => {
    const b = {
      subtotal: 2598,
      discount: 0,
      shipping: 0,
      tax: 0,
      shippingTax: 0,
      taxIncluded: true,
      total: 2598,
    };
    expect(splitRefund(b, 1299)).toEqual({ goods: 1299, shipping: 0, tax: 0, discount: 0 });
  });
});
