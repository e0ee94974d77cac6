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

  // Row 1: goods 8000 gross (tax 1277), shipping 490 gross (tax 78), paid 8490: refunded in full, exactly
  // what was paid for each. Rows 2-3: net prices, a partial refund is proportional. Row 4: an order
  // without a breakdown (subtotal = total, nothing else) refunds as goods.
  it.each`
    taxIncluded | subtotal | discount | shipping | tax     | shippingTax | total   | refund  | goods   | shippingPart | taxPart | discountPart
    ${true}     | ${10000} | ${2000}  | ${490}   | ${1355} | ${78}       | ${8490} | ${8490} | ${6723} | ${412}       | ${1355} | ${2000}
    ${false}    | ${5000}  | ${500}   | ${500}   | ${950}  | ${95}       | ${5950} | ${1000} | ${756}  | ${84}        | ${160}  | ${84}
    ${false}    | ${5000}  | ${500}   | ${500}   | ${950}  | ${95}       | ${5950} | ${0}    | ${0}    | ${0}         | ${0}    | ${0}
    ${true}     | ${2598}  | ${0}     | ${0}     | ${0}    | ${0}        | ${2598} | ${1299} | ${1299} | ${0}         | ${0}    | ${0}
  `(
    'a refund of $refund of $total splits into goods $goods, shipping $shippingPart, tax $taxPart (and none above $total)',
    ({ refund, goods, shippingPart, taxPart, discountPart, ...breakdown }) => {
      expect(splitRefund(breakdown, refund)).toEqual({
        goods,
        shipping: shippingPart,
        tax: taxPart,
        discount: discountPart,
      });
      expect(goods + shippingPart + taxPart).toBe(refund);
      expect(() => splitRefund(breakdown, breakdown.total + 1)).toThrow(RangeError);
    },
  );

  it('a placed order: the shipping tax is what the lines leave of the order tax', () => {
    const order = {
      breakdown: { subtotal: 7498, discount: 750, shipping: 490, tax: 1105, taxIncluded: true, total: 7238 },
      items: [{ tax: 900 }, { tax: 123 }],
    };
    expect(refundSplitOf(order, 1000)).toEqual({ goods: 791, shipping: 56, tax: 153, discount: 104 });
    expect(refundSplitOf(order, 7238)).toEqual({ goods: 5725, shipping: 408, tax: 1105, discount: 750 });
    expect(refundSplitOf(order, 7239)).toBeUndefined();
  });
});
