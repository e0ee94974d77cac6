import { OrdersService } from '../../src/orders';
import { RegisteredUser, adminToken, registerUser } from '../support/auth';
import { openFlashSale } from '../support/flash-sale';
import { orderServiceClient, rpcError, unary } from '../support/grpc';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { CARDS } from '../payments/support';
import {
  addToCart,
  address,
  couponUsed,
  createAddress,
  createCategory,
  createCoupon,
  createShipping,
  createSkuIn,
  createTaxRate,
  tag,
} from './support';

/**
 * Issue 23, checkout as a customer does it: cart → address → shipping → coupon → quote → order →
 * payment → PAID, the breakdown checked to the minor unit (docs/checkout.md has the rules), and
 * what API clients of before keep getting.
 *
 * The shop (this file's apps): SHOP_COUNTRY=LU, prices include tax. Tax rates: AT 20 %, AT
 * books 10 %, LU 17 %. Shipping "std" to AT: 4.90, free from 100.00.
 */
/** This file is about prices: the per-customer order caps (decision 0018, tested in test/orders) stay out of the way. */
const NO_ORDER_CAPS = { ORDER_RATE_LIMIT: '1000000', ORDER_MAX_UNPAID_ORDERS: '1000' };

describe('checkout', () => {
  let t: TestApp;
  let admin: string;
  let customer: RegisteredUser;
  let books: string;
  let shirt: { sku: string; productId: string };
  let novel: { sku: string; productId: string };
  let ship: string;
  let coupon: { id: string; code: string };

  beforeAll(async () => {
    t = await startApp({ SHOP_COUNTRY: 'LU', SANDBOX_DUPLICATE_PERCENT: '0', ...NO_ORDER_CAPS });
    admin = await adminToken(t);
    customer = await registerUser(t);
    books = (await createCategory(t, admin)).id;
    const clothing = (await createCategory(t, admin)).id;
    shirt = await createSkuIn(t, admin, { price: 2999, categoryId: clothing });
    novel = await createSkuIn(t, admin, { price: 1500, categoryId: books });
    await createTaxRate(t, admin, { country: 'AT', name: 'USt 20 %', rateBp: 2000 });
    await createTaxRate(t, admin, { country: 'AT', categoryId: books, name: 'USt 10 %', rateBp: 1000 });
    await createTaxRate(t, admin, { country: 'LU', name: 'TVA 17 %', rateBp: 1700 });
    ship = (
      await createShipping(t, admin, {
        code: tag('std').toLowerCase(),
        name: 'Standard',
        price: 490,
        currency: 'EUR',
        freeAbove: 10000,
        countries: ['AT', 'DE'],
      })
    ).code;
    coupon = await createCoupon(t, admin, {
      code: tag('TEN'),
      kind: 'percentage',
      percentOff: 10,
      minSubtotal: 5000,
      currency: 'EUR',
      usageLimit: 10,
      perCustomerLimit: 3,
    });
  });
  afterAll(() => t?.close());

  /*
   * The cart: 2 × shirt at 29.99 (20 %) + 1 × novel at 15.00 (books, 10 %), to Austria.
   *   subtotal 5998 + 1500 = 7498
   *   coupon 10 %: 749.8 → 750, shared 7498 : 600 on the shirt line (599.97 → 599 + the unit left
   *   over, largest remainder), 150 on the novel
   *   tax (prices include it; net = round half up of gross / (1 + rate)):
   *     shirt 5998 − 600 = 5398 → net 4498.33 → 4498, tax 900
   *     novel 1500 − 150 = 1350 → net 1227.27 → 1227, tax 123
   *     shipping 490 (AT standard 20 %) → net 408.33 → 408, tax 82
   *   tax 1105 (included); total 7498 − 750 + 490 = 7238
   */
  const expectedBreakdown = {
    subtotal: 7498,
    discount: 750,
    shipping: 490,
    tax: 1105,
    taxIncluded: true,
    total: 7238,
    currency: 'EUR',
  };

  it('cart → address → shipping → coupon → quote → order → payment → PAID, to the minor unit', async () => {
    const token = customer.accessToken;
    // Cart
    await addToCart(t, token, shirt.sku, 2);
    const cart = await addToCart(t, token, novel.sku, 1);
    expect(cart).toMatchObject({ subtotal: { amount: 7498, currency: 'EUR' }, orderable: true });
    // Address
    const addr = await createAddress(t, token, address('AT'));
    // Shipping methods for that address
    const methods = await http('GET', t.api('/shipping-methods?country=AT&currency=EUR'));
    const std = methods.body.items.find((m: any) => m.code === ship);
    expect(std).toMatchObject({ price: 490, freeAbove: 10000 });
    // Quote with the coupon
    const body = {
      fromCart: true,
      addressId: addr.id,
      shippingMethod: ship,
      couponCode: coupon.code.toLowerCase(),
    };
    const quote = await http('POST', t.api('/orders/quote'), { token, body });
    expect(quote.status).toBe(200);
    expect(quote.body.breakdown).toEqual(expectedBreakdown);
    // Lines come back sorted by SKU (orders merge and sort their lines).
    const lines = [
      {
        sku: shirt.sku,
        quantity: 2,
        unitPrice: 2999,
        lineTotal: 5998,
        discount: 600,
        taxRateBp: 2000,
        tax: 900,
      },
      {
        sku: novel.sku,
        quantity: 1,
        unitPrice: 1500,
        lineTotal: 1500,
        discount: 150,
        taxRateBp: 1000,
        tax: 123,
      },
    ].sort((a, b) => (a.sku < b.sku ? -1 : 1));
    expect(quote.body.items).toEqual(lines.map((l) => expect.objectContaining(l)));
    expect(quote.body).toMatchObject({
      taxCountry: 'AT',
      shippingMethod: { code: ship, name: 'Standard' },
      coupon: { code: coupon.code },
    });
    expect(await couponUsed(t, admin, coupon.id)).toBe(0); // a quote takes nothing

    // Order, accepting the quote's total
    const key = tag('idem');
    const placed = await http('POST', t.api('/orders'), {
      token,
      body: { ...body, expectedTotal: quote.body.breakdown.total },
      headers: { 'idempotency-key': key },
    });
    expect(placed.status).toBe(201);
    const order = placed.body;
    expect(order).toMatchObject({
      status: 'PENDING_PAYMENT',
      total: { amount: 7238, currency: 'EUR' },
      breakdown: expectedBreakdown,
      taxCountry: 'AT',
      shippingMethod: { code: ship, name: 'Standard' },
      coupon: { code: coupon.code },
      awaitingAddress: false,
      shippingAddress: expect.objectContaining({
        country: 'AT',
        postalCode: '1010',
        fullName: 'Erika Mustermann',
      }),
    });
    expect(order.items.map((i: any) => [i.sku, i.discount, i.tax])).toEqual(
      quote.body.items.map((i: any) => [i.sku, i.discount, i.tax]),
    );
    expect(await couponUsed(t, admin, coupon.id)).toBe(1);
    // The cart gave up what the order took.
    await eventually(async () => (await http('GET', t.api('/cart'), { token })).body.items.length === 0);
    // The same key again: the same order, the coupon used once.
    const replay = await http('POST', t.api('/orders'), {
      token,
      body: { ...body, expectedTotal: 7238 },
      headers: { 'idempotency-key': key },
    });
    expect([replay.status, replay.body.id]).toEqual([201, order.id]);
    expect(await couponUsed(t, admin, coupon.id)).toBe(1);
    const reused = await http('POST', t.api('/orders'), {
      token,
      body: { ...body, couponCode: undefined },
      headers: { 'idempotency-key': key },
    });
    expect([reused.status, reused.body.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // Editing the address book later does not change the order's copy.
    await http('PATCH', t.api(`/addresses/${addr.id}`), {
      token,
      body: { city: 'Graz', postalCode: '8010' },
    });
    expect((await http('GET', t.api(`/orders/${order.id}`), { token })).body.shippingAddress).toMatchObject({
      city: 'Wien',
      postalCode: '1010',
    });

    // Payment of the total with everything in it
    const payment = await http('POST', t.api('/payments'), { token, body: { orderId: order.id } });
    expect(payment.status).toBe(201);
    expect(payment.body).toMatchObject({ amount: 7238, currency: 'EUR', status: 'PENDING' });
    const confirm = await http('POST', t.api(`/payments/${payment.body.id}/confirm`), {
      token,
      body: { card: CARDS.success },
    });
    expect(confirm.status).toBe(202);
    await eventually(
      async () => (await http('GET', t.api(`/orders/${order.id}`), { token })).body.status === 'PAID',
      20000,
    );
    const paid = (await http('GET', t.api(`/orders/${order.id}`), { token })).body;
    expect(paid).toMatchObject({ status: 'PAID', breakdown: expectedBreakdown });
    // A partial refund of 10.00 of the 72.38, split by the documented rule (docs/checkout.md):
    // paid net of tax: goods 7498 − 750 − 1023 = 5725, shipping 490 − 82 = 408, tax 1105 (= 7238);
    // 1000 × each / 7238 = 790.97, 56.37, 152.67 → 790, 56, 152 and the 2 units left to the largest
    // remainders (goods, tax); the discount on those goods: 750 × 791 / 5725 = 103.62 → 104.
    const refund = await http('POST', t.api(`/payments/${payment.body.id}/refunds`), {
      token: admin,
      body: { amount: 1000 },
    });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({
      amount: 1000,
      split: { goods: 791, shipping: 56, tax: 153, discount: 104 },
    });
    const listed = await http('GET', t.api(`/payments/${payment.body.id}/refunds`), { token: admin });
    expect(listed.body.items[0].split).toEqual({ goods: 791, shipping: 56, tax: 153, discount: 104 });
    // A paid order keeps its coupon use (only cancel/expiry give it back).
    expect((await http('POST', t.api(`/orders/${order.id}/cancel`), { token })).status).toBe(409);
    expect(await couponUsed(t, admin, coupon.id)).toBe(1);
  });

  it('the same quote with net prices adds the tax, rounded half up per line', async () => {
    const net = await startApp({ SHOP_COUNTRY: 'LU', PRICES_INCLUDE_TAX: 'false', ...NO_ORDER_CAPS });
    try {
      const u = await registerUser(net);
      const addr = await createAddress(net, u.accessToken, address('AT'));
      const quote = await http('POST', net.api('/orders/quote'), {
        token: u.accessToken,
        body: {
          items: [
            { sku: shirt.sku, quantity: 2 },
            { sku: novel.sku, quantity: 1 },
          ],
          addressId: addr.id,
          shippingMethod: ship,
          couponCode: coupon.code,
        },
      });
      // shirt 5398 × 20 % = 1079.6 → 1080; novel 1350 × 10 % = 135; shipping 490 × 20 % = 98
      expect(quote.body.breakdown).toEqual({
        subtotal: 7498,
        discount: 750,
        shipping: 490,
        tax: 1313,
        taxIncluded: false,
        total: 8551,
        currency: 'EUR',
      });
    } finally {
      await net.close();
    }
  });

  it("orders with items only (the API of before) get no shipping line and the home country's tax, included: total = subtotal", async () => {
    const res = await http('POST', t.api('/orders'), {
      token: customer.accessToken,
      body: { items: [{ sku: shirt.sku, quantity: 1 }] },
    });
    expect(res.status).toBe(201);
    // 2999 at LU 17 %: net 2563.25 → 2563, tax 436
    expect(res.body).toMatchObject({
      total: { amount: 2999, currency: 'EUR' },
      breakdown: {
        subtotal: 2999,
        discount: 0,
        shipping: 0,
        tax: 436,
        taxIncluded: true,
        total: 2999,
        currency: 'EUR',
      },
      taxCountry: 'LU',
      shippingAddress: null,
      shippingMethod: null,
      coupon: null,
    });
    expect(res.body.items[0]).toMatchObject({
      sku: shirt.sku,
      quantity: 1,
      unitPrice: 2999,
      currency: 'EUR',
      productName: expect.any(String),
    });
    // An inline address (not saved to the book), free shipping from 100.00 after discount.
    const big = await http('POST', t.api('/orders'), {
      token: customer.accessToken,
      body: {
        items: [{ sku: shirt.sku, quantity: 4 }],
        shippingAddress: address('DE'),
        shippingMethod: ship,
      },
    });
    expect(big.status).toBe(201);
    // DE has no rate in this run: tax 0. 4 × 2999 = 11996 ≥ 10000 → shipping free.
    expect(big.body.breakdown).toEqual({
      subtotal: 11996,
      discount: 0,
      shipping: 0,
      tax: 0,
      taxIncluded: true,
      total: 11996,
      currency: 'EUR',
    });
    expect(big.body.shippingAddress.country).toBe('DE');
  });

  it('a quote that no longer matches answers 409 PRICE_CHANGED with the new breakdown, unless the client accepts the new total', async () => {
    const u = await registerUser(t);
    const item = await createSkuIn(t, admin, { price: 1000 });
    const body = { items: [{ sku: item.sku, quantity: 1 }] };
    const quote = await http('POST', t.api('/orders/quote'), { token: u.accessToken, body });
    expect(quote.body.breakdown.total).toBe(1000);
    await http('PATCH', t.api(`/products/${item.productId}`), {
      token: admin,
      body: { variants: [{ sku: item.sku, price: 1200, currency: 'EUR' }] },
    });
    const stale = await http('POST', t.api('/orders'), {
      token: u.accessToken,
      body: { ...body, expectedTotal: 1000 },
    });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({
      code: 'PRICE_CHANGED',
      details: { expectedTotal: 1000, breakdown: { total: 1200 } },
    });
    const accepted = await http('POST', t.api('/orders'), {
      token: u.accessToken,
      body: { ...body, expectedTotal: stale.body.details.breakdown.total },
    });
    expect([accepted.status, accepted.body.total.amount]).toEqual([201, 1200]);
  });

  it('stable codes: SHIPPING_NOT_AVAILABLE, ADDRESS_INVALID, ADDRESS_NOT_FOUND, COUPON_NOT_FOUND, COUPON_NOT_APPLICABLE, and an address needs a method', async () => {
    const token = customer.accessToken;
    const items = [{ sku: novel.sku, quantity: 1 }];
    const cases: [Record<string, unknown>, number, string][] = [
      [{ items, shippingAddress: address('FR'), shippingMethod: ship }, 422, 'SHIPPING_NOT_AVAILABLE'],
      [
        { items, shippingAddress: address('AT'), shippingMethod: 'no-such-method' },
        422,
        'SHIPPING_NOT_AVAILABLE',
      ],
      [{ items, shippingAddress: address('ZZ'), shippingMethod: ship }, 422, 'ADDRESS_INVALID'],
      [
        { items, addressId: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40', shippingMethod: ship },
        404,
        'ADDRESS_NOT_FOUND',
      ],
      [{ items, couponCode: 'NO-SUCH-COUPON' }, 404, 'COUPON_NOT_FOUND'],
      [{ items, couponCode: coupon.code }, 422, 'COUPON_NOT_APPLICABLE'], // 15.00 < the 50.00 minimum
      [{ items, shippingAddress: address('AT') }, 400, 'VALIDATION_FAILED'],
      [{ items, shippingMethod: ship }, 400, 'VALIDATION_FAILED'],
      [{ items, fromCart: true }, 400, 'VALIDATION_FAILED'],
      [{}, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      for (const path of ['/orders/quote', '/orders']) {
        const res = await http('POST', t.api(path), { token, body });
        expect({ path, body, status: res.status, code: res.body.code }).toEqual({ path, body, status, code });
      }
    }
  });

  it('cancel and expiry give the coupon use back exactly once', async () => {
    const c = await createCoupon(t, admin, {
      code: tag('ONCE'),
      kind: 'fixed',
      amountOff: 100,
      currency: 'EUR',
      usageLimit: 2,
    });
    const u = await registerUser(t);
    const place = () =>
      http('POST', t.api('/orders'), {
        token: u.accessToken,
        body: { items: [{ sku: novel.sku, quantity: 1 }], couponCode: c.code },
      });
    const a = await place();
    const b = await place();
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.breakdown).toMatchObject({ subtotal: 1500, discount: 100, total: 1400 });
    const third = await place();
    expect([third.status, third.body.code]).toEqual([409, 'COUPON_EXHAUSTED']);
    expect(await couponUsed(t, admin, c.id)).toBe(2);

    const cancels = await Promise.all(
      [1, 2, 3].map(() => http('POST', t.api(`/orders/${a.body.id}/cancel`), { token: u.accessToken })),
    );
    expect(cancels.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(await couponUsed(t, admin, c.id)).toBe(1);

    const orders = t.app.get(OrdersService);
    const expired = await Promise.all([orders.expire(b.body.id), orders.expire(b.body.id)]);
    expect(expired.sort()).toEqual([false, true]);
    expect(await couponUsed(t, admin, c.id)).toBe(0);
    // The uses are there again.
    expect((await place()).status).toBe(201);
  });

  it('gRPC CreateOrder takes the same fields (new field numbers) and the Order message carries breakdown and address', async () => {
    const client = orderServiceClient(t.grpcUrl);
    try {
      const u = await registerUser(t);
      const order = await unary(
        client,
        'CreateOrder',
        {
          items: [
            { sku: shirt.sku, quantity: 2 },
            { sku: novel.sku, quantity: 1 },
          ],
          shipping_address: {
            full_name: 'Max Muster',
            line1: 'Ring 1',
            city: 'Wien',
            postal_code: '1010',
            country_code: 'AT',
          },
          shipping_method: ship,
          coupon_code: coupon.code,
          expected_total: { currency_code: 'EUR', amount_minor: 7238 },
        },
        u.accessToken,
      );
      expect(order).toMatchObject({
        status: 'ORDER_STATUS_PENDING_PAYMENT',
        total: { currency_code: 'EUR', amount_minor: 7238 },
        breakdown: {
          subtotal: { amount_minor: 7498 },
          discount: { amount_minor: 750 },
          shipping: { amount_minor: 490 },
          tax: { amount_minor: 1105 },
          tax_included: true,
          total: { amount_minor: 7238 },
        },
        shipping_address: expect.objectContaining({ full_name: 'Max Muster', country_code: 'AT' }),
        shipping_method: ship,
        coupon_code: coupon.code,
        tax_country: 'AT',
      });
      const err = await rpcError(
        unary(
          client,
          'CreateOrder',
          { items: [{ sku: novel.sku, quantity: 1 }], expected_total: { amount_minor: 1 } },
          u.accessToken,
        ),
      );
      expect(err.code).toBe(9); // FAILED_PRECONDITION
      expect(err.metadata.get('error-code')).toEqual(['PRICE_CHANGED']);
      // A client of before: items only.
      const plain = await unary(
        client,
        'CreateOrder',
        { items: [{ sku: novel.sku, quantity: 1 }] },
        u.accessToken,
      );
      expect(plain).toMatchObject({
        total: { amount_minor: 1500 },
        shipping_method: '',
        coupon_code: '',
        shipping_address: null,
      });
    } finally {
      client.close();
    }
  });

  it("flash-sale orders ship to the buyer's default address, or wait for one before they can be paid", async () => {
    const sku = (await createSkuIn(t, admin, { price: 5000, stock: 10 })).sku;
    const saleId = await openFlashSale(t, admin, { sku, price: 3000, quantity: 5 });
    const withBook = await registerUser(t);
    await createAddress(t, withBook.accessToken, address('AT'));
    const without = await registerUser(t);
    const buy = async (u: RegisteredUser) => {
      const r = await http('POST', t.api(`/flash-sales/${saleId}/purchase`), { token: u.accessToken });
      expect(r.status).toBe(202);
      return eventually(async () => {
        const s = await http('GET', t.api(`/flash-sales/${saleId}/purchase`), { token: u.accessToken });
        return s.body.orderId as string | undefined;
      }, 20000);
    };
    const shipped = (
      await http('GET', t.api(`/orders/${await buy(withBook)}`), { token: withBook.accessToken })
    ).body;
    // 3000 at AT 20 % (the default address's country): tax 500 included
    expect(shipped).toMatchObject({
      source: 'flash_sale',
      awaitingAddress: false,
      shippingAddress: expect.objectContaining({ country: 'AT' }),
      breakdown: {
        subtotal: 3000,
        discount: 0,
        shipping: 0,
        tax: 500,
        taxIncluded: true,
        total: 3000,
        currency: 'EUR',
      },
    });
    const waitingId = await buy(without);
    const waiting = (await http('GET', t.api(`/orders/${waitingId}`), { token: without.accessToken })).body;
    expect(waiting).toMatchObject({ awaitingAddress: true, shippingAddress: null, taxCountry: 'LU' });
    const early = await http('POST', t.api('/payments'), {
      token: without.accessToken,
      body: { orderId: waitingId },
    });
    expect([early.status, early.body.code]).toEqual([409, 'ADDRESS_REQUIRED']);
    const set = await http('PUT', t.api(`/orders/${waitingId}/address`), {
      token: without.accessToken,
      body: { address: address('DE') },
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({
      awaitingAddress: false,
      shippingAddress: expect.objectContaining({ country: 'DE' }),
      total: waiting.total,
    });
    const again = await http('PUT', t.api(`/orders/${waitingId}/address`), {
      token: without.accessToken,
      body: { address: address('DE') },
    });
    expect([again.status, again.body.code]).toEqual([409, 'ADDRESS_NOT_AWAITED']);
    const pay = await http('POST', t.api('/payments'), {
      token: without.accessToken,
      body: { orderId: waitingId },
    });
    expect(pay.status).toBe(201);
    expect(pay.body.amount).toBe(3000);
  });
});
