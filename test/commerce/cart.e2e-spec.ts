import { TwoLevelCache } from '../../src/infra/cache/two-level-cache.service';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { RedisService } from '../../src/infra/redis/redis.service';
import { RegisteredUser, adminToken, registerUser } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';
import { addToCart, createSkuIn, tag } from './support';

/**
 * Issue 23, carts: one per customer in Redis, priced from the catalog at read time, bounded like
 * an order (50 SKUs, 1000 of each, also under concurrent requests), expiring, and honest about
 * lines whose variant was deleted or deactivated.
 */
describe('cart', () => {
  let t: TestApp;
  let admin: string;
  let user: RegisteredUser;
  const cart = (token = user.accessToken) => http('GET', t.api('/cart'), { token });

  beforeAll(async () => {
    t = await startApp({ CART_TTL_SECONDS: '600', ORDER_MAX_UNPAID_UNITS_PER_SKU: '200' });
    admin = await adminToken(t);
    user = await registerUser(t);
  });
  afterAll(() => t?.close());

  it('adds, sets, removes and clears; every read prices from the catalog now', async () => {
    const a = await createSkuIn(t, admin, { price: 1299 });
    const b = await createSkuIn(t, admin, { price: 500 });
    await addToCart(t, user.accessToken, a.sku, 2);
    const after = await addToCart(t, user.accessToken, a.sku, 1); // adds up
    expect(after.items).toEqual([
      expect.objectContaining({
        sku: a.sku,
        quantity: 3,
        unitPrice: 1299,
        lineTotal: 3897,
        currency: 'EUR',
        available: true,
        problem: null,
      }),
    ]);
    await addToCart(t, user.accessToken, b.sku, 4);
    let res = await http('PUT', t.api(`/cart/items/${b.sku}`), {
      token: user.accessToken,
      body: { quantity: 1 },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      subtotal: { amount: 3897 + 500, currency: 'EUR' },
      totalQuantity: 4,
      orderable: true,
    });

    // A price change shows at the next read (the cart stores SKUs and quantities only).
    const patch = await http('PATCH', t.api(`/products/${a.productId}`), {
      token: admin,
      body: { variants: [{ sku: a.sku, price: 1000, currency: 'EUR' }] },
    });
    expect(patch.status).toBe(200);
    res = await cart();
    expect(res.body.items.find((i: any) => i.sku === a.sku)).toMatchObject({
      unitPrice: 1000,
      lineTotal: 3000,
    });
    expect(res.body.subtotal).toEqual({ amount: 3500, currency: 'EUR' });

    res = await http('PUT', t.api(`/cart/items/${b.sku}`), {
      token: user.accessToken,
      body: { quantity: 0 },
    });
    expect(res.body.items.map((i: any) => i.sku)).toEqual([a.sku]);
    res = await http('DELETE', t.api(`/cart/items/${a.sku}`), { token: user.accessToken });
    expect(res.body).toEqual({ items: [], subtotal: null, totalQuantity: 0, orderable: false });
    await addToCart(t, user.accessToken, b.sku, 1);
    expect((await http('DELETE', t.api('/cart'), { token: user.accessToken })).status).toBe(204);
    expect((await cart()).body.items).toEqual([]);
  });

  it('refuses unknown and inactive SKUs at add time; a line whose variant is later deactivated or deleted says so', async () => {
    const u = await registerUser(t);
    const unknown = await http('POST', t.api('/cart/items'), {
      token: u.accessToken,
      body: { sku: tag('NOPE'), quantity: 1 },
    });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'SKU_NOT_FOUND']);

    const gone = await createSkuIn(t, admin, { price: 700 });
    const archived = await createSkuIn(t, admin, { price: 900 });
    const kept = await createSkuIn(t, admin, { price: 100 });
    for (const s of [gone, archived, kept]) await addToCart(t, u.accessToken, s.sku, 1);

    expect((await http('DELETE', t.api(`/products/${archived.productId}`), { token: admin })).status).toBe(
      204,
    );
    // A variant removed from the database (no API deletes one; a data fix could).
    const db = t.app.get(DbRouter);
    await db.execute('DELETE FROM inventory_items WHERE sku = ?', [gone.sku]).catch(() => undefined);
    await db.execute('DELETE FROM product_variants WHERE sku = ?', [gone.sku]);
    await t.app.get(TwoLevelCache).afterWrite({ namespaces: ['price'] });

    const res = await cart(u.accessToken);
    expect(res.status).toBe(200);
    const by = Object.fromEntries(res.body.items.map((i: any) => [i.sku, i]));
    expect(by[gone.sku]).toMatchObject({
      available: false,
      problem: 'UNKNOWN_SKU',
      unitPrice: null,
      productName: null,
    });
    expect(by[archived.sku]).toMatchObject({ available: false, problem: 'INACTIVE', unitPrice: 900 });
    expect(by[kept.sku]).toMatchObject({ available: true, problem: null });
    expect(res.body).toMatchObject({ subtotal: { amount: 100, currency: 'EUR' }, orderable: false });

    const again = await http('POST', t.api('/cart/items'), {
      token: u.accessToken,
      body: { sku: archived.sku, quantity: 1 },
    });
    expect([again.status, again.body.code]).toEqual([409, 'SKU_INACTIVE']);
    // Checkout from this cart names what to remove; quotes too.
    const order = await http('POST', t.api('/orders'), { token: u.accessToken, body: { fromCart: true } });
    expect([order.status, order.body.code]).toEqual([409, 'CART_NOT_ORDERABLE']);
    expect(order.body.details.items).toEqual(
      expect.arrayContaining([
        { sku: gone.sku, problem: 'UNKNOWN_SKU' },
        { sku: archived.sku, problem: 'INACTIVE' },
      ]),
    );
    // Lowering or removing a line of a SKU no longer sold still works.
    const removed = await http('PUT', t.api(`/cart/items/${gone.sku}`), {
      token: u.accessToken,
      body: { quantity: 0 },
    });
    expect(removed.status).toBe(200);
    await http('DELETE', t.api(`/cart/items/${archived.sku}`), { token: u.accessToken });
    const now = await cart(u.accessToken);
    expect(now.body.orderable).toBe(true);
    const empty = await http('POST', t.api('/orders'), {
      token: (await registerUser(t)).accessToken,
      body: { fromCart: true },
    });
    expect([empty.status, empty.body.code]).toEqual([409, 'CART_EMPTY']);
  });

  it('holds at most 50 SKUs and of each what a customer may hold unpaid, also under concurrent adds (409 CART_FULL, CART_LINE_LIMIT)', async () => {
    const u = await registerUser(t);
    const skus = Array.from({ length: 51 }, () => tag('CAP'));
    const product = await http('POST', t.api('/products'), {
      token: admin,
      body: {
        name: 'Cart caps',
        variants: skus.map((sku) => ({ sku, price: 10, currency: 'EUR', stockOnHand: 5 })),
      },
    });
    expect(product.status).toBe(201);
    // 51 concurrent adds of 51 different SKUs: exactly 50 fit.
    const adds = await Promise.all(
      skus.map((sku) =>
        http('POST', t.api('/cart/items'), { token: u.accessToken, body: { sku, quantity: 1 } }),
      ),
    );
    expect(adds.filter((r) => r.status === 200)).toHaveLength(50);
    const full = adds.filter((r) => r.status !== 200);
    expect(full.map((r) => [r.status, r.body.code])).toEqual([[409, 'CART_FULL']]);
    expect((await cart(u.accessToken)).body.items).toHaveLength(50);

    // ORDER_MAX_UNPAID_UNITS_PER_SKU is 200 here: 20 concurrent adds of 20 of one SKU, exactly 10
    // fit, the rest are refused whole.
    const v = await registerUser(t);
    const many = await Promise.all(
      Array.from({ length: 20 }, () =>
        http('POST', t.api('/cart/items'), { token: v.accessToken, body: { sku: skus[0], quantity: 20 } }),
      ),
    );
    expect(many.filter((r) => r.status === 200)).toHaveLength(10);
    expect(many.filter((r) => r.status === 409).every((r) => r.body.code === 'CART_LINE_LIMIT')).toBe(true);
    expect((await cart(v.accessToken)).body.items[0].quantity).toBe(200);
    const over = await http('PUT', t.api(`/cart/items/${skus[0]}`), {
      token: v.accessToken,
      body: { quantity: 201 },
    });
    expect([over.status, over.body.code, over.body.details]).toEqual([
      409,
      'CART_LINE_LIMIT',
      { sku: skus[0], maxQuantity: 200, current: 200 },
    ]);
    const beyond = await http('PUT', t.api(`/cart/items/${skus[0]}`), {
      token: v.accessToken,
      body: { quantity: 1001 },
    });
    expect(beyond.status).toBe(400);
  });

  it('lives in one Redis hash per customer, hash-tagged by customer id, with a TTL every change restarts', async () => {
    const u = await registerUser(t);
    const s = await createSkuIn(t, admin, { price: 100 });
    await addToCart(t, u.accessToken, s.sku, 2);
    const redis = t.app.get(RedisService);
    const key = `${t.config.redis.prefix}:{cart:${u.user.id}}`;
    expect(await redis.client.hgetall(key)).toEqual({ [s.sku]: '2' });
    const ttl = await redis.client.ttl(key);
    expect(ttl).toBeGreaterThan(500);
    expect(ttl).toBeLessThanOrEqual(600);
    await redis.client.expire(key, 30);
    await addToCart(t, u.accessToken, s.sku, 1);
    expect(await redis.client.ttl(key)).toBeGreaterThan(500);
    // Kept across devices: another login of the same customer sees the same cart.
    const login = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: u.password },
    });
    expect((await cart(login.body.accessToken)).body.items[0]).toMatchObject({ sku: s.sku, quantity: 3 });
    // Another customer sees their own (empty) cart.
    expect((await cart()).body.items.find((i: any) => i.sku === s.sku)).toBeUndefined();
  });

  it('answers bad input with 400 in the error shape', async () => {
    for (const body of [
      { sku: 'bad sku!', quantity: 1 },
      { sku: 'OK', quantity: 0 },
      { sku: 'OK', quantity: 1.5 },
      { sku: 'OK' },
      { sku: 'OK', quantity: 1, price: 1 },
    ]) {
      const res = await http('POST', t.api('/cart/items'), { token: user.accessToken, body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        requestId: expect.any(String),
      });
    }
    const path = await http('DELETE', t.api(`/cart/items/${encodeURIComponent('a b')}`), {
      token: user.accessToken,
    });
    expect(path.status).toBe(400);
    expect((await http('GET', t.api('/cart'))).status).toBe(401);
    const absent = await http('DELETE', t.api('/cart/items/NOT-IN-CART'), { token: user.accessToken });
    expect([absent.status, absent.body.code]).toEqual([404, 'CART_ITEM_NOT_FOUND']);
  });
});
