import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { QUEUES } from '../../src/infra/queue/queues';
import { OrdersService } from '../../src/orders';
import { OrderExpiryProcessor, requestHash, normalizeItems } from '../../src/orders/testing';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, stockOf, uniqueSku } from './builders';

describe('orders: no oversell across two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([startApp(), startApp()]);
    admin = await adminToken(a);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('200 concurrent orders from 40 users for 50 units: exactly 50 created, 150 × 409 INSUFFICIENT_STOCK', async () => {
    const sku = uniqueSku('RUSH');
    await createProduct(a, admin, [{ sku, price: 1999, stockOnHand: 50 }]);
    const users = await Promise.all(Array.from({ length: 40 }, () => registerUser(a)));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        placeOrder(i % 2 ? a : b, users[i % 40].accessToken, [{ sku, quantity: 1 }]),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(created).toHaveLength(50);
    expect(refused).toHaveLength(150);
    for (const r of refused) expect(r.body.code).toBe('INSUFFICIENT_STOCK');
    for (const r of created) {
      expect(r.body).toMatchObject({ status: 'PENDING_PAYMENT', total: { amount: 1999, currency: 'EUR' } });
      expect(r.body.items).toEqual([
        expect.objectContaining({ sku, quantity: 1, unitPrice: 1999, currency: 'EUR' }),
      ]);
    }
    expect(new Set(created.map((r) => r.body.id)).size).toBe(50);
    expect(await stockOf(a, admin, sku)).toMatchObject({ onHand: 50, reserved: 50, available: 0 });
  });

  it('prices the next order on another instance from the catalog as it is now: new price, new SKU, deactivated product', async () => {
    const sku = uniqueSku('PRICE');
    const later = uniqueSku('LATER');
    const id = await createProduct(a, admin, [{ sku, price: 1000, stockOnHand: 100 }]);
    const buyer = await registerUser(a);
    const unitPrice = async () => {
      const r = await placeOrder(b, buyer.accessToken, [{ sku, quantity: 1 }]);
      expect(r.status).toBe(201);
      return r.body.items[0].unitPrice as number;
    };
    expect(await unitPrice()).toBe(1000); // b now holds the price in its cache
    expect((await placeOrder(b, buyer.accessToken, [{ sku: later, quantity: 1 }])).status).toBe(404);
    const patched = await http('PATCH', a.api(`/products/${id}`), {
      token: admin,
      body: {
        variants: [
          { sku, price: 1500, currency: 'EUR' },
          { sku: later, price: 700, currency: 'EUR', stockOnHand: 3 },
        ],
      },
    });
    expect(patched.status).toBe(200);
    // The invalidation broadcast reaches b in milliseconds; the cache TTLs bound it at seconds.
    await eventually(async () => (await unitPrice()) === 1500, 500);
    const now = await placeOrder(b, buyer.accessToken, [{ sku: later, quantity: 1 }]);
    expect(now.status).toBe(201);
    expect(now.body.items[0]).toMatchObject({ sku: later, unitPrice: 700 });
    expect(
      (await http('PATCH', a.api(`/products/${id}`), { token: admin, body: { status: 'draft' } })).status,
    ).toBe(200);
    await eventually(async () => {
      const r = await placeOrder(b, buyer.accessToken, [{ sku, quantity: 1 }]);
      return r.status === 409 && r.body.code === 'SKU_INACTIVE';
    }, 500);
  });

  it('multi-SKU orders naming the SKUs in opposite orders, concurrently: all succeed, no deadlock or 5xx surfaces', async () => {
    const [x, y, z] = [uniqueSku('X'), uniqueSku('Y'), uniqueSku('Z')];
    await createProduct(a, admin, [
      { sku: x, price: 100, stockOnHand: 100 },
      { sku: y, price: 200, stockOnHand: 100 },
      { sku: z, price: 300, stockOnHand: 100 },
    ]);
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser(a)));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const items =
          i % 2
            ? [
                { sku: x, quantity: 1 },
                { sku: y, quantity: 1 },
                { sku: z, quantity: 1 },
              ]
            : [
                { sku: z, quantity: 1 },
                { sku: y, quantity: 1 },
                { sku: x, quantity: 1 },
              ];
        return placeOrder(i % 3 ? a : b, users[i % 6].accessToken, items);
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(201));
    for (const r of results) expect(r.body.total).toEqual({ amount: 600, currency: 'EUR' });
    for (const sku of [x, y, z])
      expect(await stockOf(a, admin, sku)).toMatchObject({ onHand: 100, reserved: 60, available: 40 });
  });
});

describe('orders: REST lifecycle, pricing, ownership, idempotency', () => {
  let t: TestApp;
  let admin: string;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let sku: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t);
    [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
    sku = uniqueSku('TEE');
    await createProduct(t, admin, [{ sku, price: 1299, stockOnHand: 100 }]);
  });
  afterAll(() => t?.close());

  it('creates an order priced from the catalog, readable by its owner right away', async () => {
    const res = await placeOrder(t, alice.accessToken, [{ sku, quantity: 2 }]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(String),
      status: 'PENDING_PAYMENT',
      items: [{ sku, quantity: 2, unitPrice: 1299, currency: 'EUR', productName: expect.any(String) }],
      total: { amount: 2598, currency: 'EUR' },
      createdAt: expect.any(String),
    });
    const got = await http('GET', t.api(`/orders/${res.body.id}`), { token: alice.accessToken });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it('rejects a client-sent price (400), an unknown SKU (404 SKU_NOT_FOUND) and mixed currencies (422)', async () => {
    const priced = await http('POST', t.api('/orders'), {
      token: alice.accessToken,
      body: { items: [{ sku, quantity: 1, price: 1 }] },
    });
    expect(priced.status).toBe(400);
    expect(priced.body.code).toBe('VALIDATION_FAILED');
    const unknown = await placeOrder(t, alice.accessToken, [{ sku: uniqueSku('NOPE'), quantity: 1 }]);
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('SKU_NOT_FOUND');
    const usd = uniqueSku('USD');
    await createProduct(t, admin, [{ sku: usd, price: 500, currency: 'USD', stockOnHand: 5 }]);
    const mixed = await placeOrder(t, alice.accessToken, [
      { sku, quantity: 1 },
      { sku: usd, quantity: 1 },
    ]);
    expect(mixed.status).toBe(422);
    expect(mixed.body.code).toBe('MIXED_CURRENCIES');
    const none = await placeOrder(t, alice.accessToken, []);
    expect(none.status).toBe(400);
  });

  it("answers 404 for another user's order, on read and on cancel", async () => {
    const mine = await placeOrder(t, alice.accessToken, [{ sku, quantity: 1 }]);
    const read = await http('GET', t.api(`/orders/${mine.body.id}`), { token: bob.accessToken });
    expect(read.status).toBe(404);
    const cancel = await http('POST', t.api(`/orders/${mine.body.id}/cancel`), { token: bob.accessToken });
    expect(cancel.status).toBe(404);
    expect((await http('GET', t.api(`/orders/${mine.body.id}`))).status).toBe(401);
  });

  it('cancels a pending order, releases its stock, and refuses a second cancel with 409 ILLEGAL_TRANSITION', async () => {
    const before = await stockOf(t, admin, sku);
    const o = await placeOrder(t, alice.accessToken, [{ sku, quantity: 3 }]);
    expect((await stockOf(t, admin, sku)).reserved).toBe(before.reserved + 3);
    const c1 = await http('POST', t.api(`/orders/${o.body.id}/cancel`), { token: alice.accessToken });
    expect(c1.status).toBe(200);
    expect(c1.body.status).toBe('CANCELLED');
    expect((await stockOf(t, admin, sku)).reserved).toBe(before.reserved);
    const c2 = await http('POST', t.api(`/orders/${o.body.id}/cancel`), { token: alice.accessToken });
    expect(c2.status).toBe(409);
    expect(c2.body.code).toBe('ILLEGAL_TRANSITION');
  });

  it('lists own orders newest first with a keyset cursor and a status filter', async () => {
    const carol = await registerUser(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await placeOrder(t, carol.accessToken, [{ sku, quantity: 1 }])).body.id);
    await http('POST', t.api(`/orders/${ids[1]}/cancel`), { token: carol.accessToken });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await http('GET', t.api(`/orders${q}`), { token: carol.accessToken });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((o: { id: string }) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const cancelled = await http('GET', t.api('/orders?status=CANCELLED'), { token: carol.accessToken });
    expect(cancelled.body.items.map((o: { id: string }) => o.id)).toEqual([ids[1]]);
    const capped = await http('GET', t.api('/orders?limit=1000'), { token: carol.accessToken });
    expect(capped.status).toBe(400);
    const adminList = await http('GET', t.api(`/admin/orders?userId=${carol.user.id}&limit=10`), {
      token: admin,
    });
    expect(adminList.status).toBe(200);
    expect(adminList.body.items).toHaveLength(5);
    expect((await http('GET', t.api('/admin/orders'), { token: carol.accessToken })).status).toBe(403);
  });

  it('Idempotency-Key: a replay returns the original order, another body is 422, and only one order exists', async () => {
    const dave = await registerUser(t);
    const key = `k-${Date.now()}`;
    const first = await placeOrder(t, dave.accessToken, [{ sku, quantity: 1 }], key);
    expect(first.status).toBe(201);
    const replay = await placeOrder(t, dave.accessToken, [{ sku, quantity: 1 }], key);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    const other = await placeOrder(t, dave.accessToken, [{ sku, quantity: 2 }], key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Keys are per user: the same key from someone else is a new order.
    const eve = await registerUser(t);
    const elsewhere = await placeOrder(t, eve.accessToken, [{ sku, quantity: 1 }], key);
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.id).not.toBe(first.body.id);
    const list = await http('GET', t.api('/orders'), { token: dave.accessToken });
    expect(list.body.items).toHaveLength(1);
  });

  it('Idempotency-Key: concurrent duplicates create one order (the other gets it too or 409 IDEMPOTENCY_IN_PROGRESS)', async () => {
    const frank = await registerUser(t);
    const key = `dup-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => placeOrder(t, frank.accessToken, [{ sku, quantity: 1 }], key)),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    }
    const list = await http('GET', t.api('/orders'), { token: frank.accessToken });
    expect(list.body.items).toHaveLength(1);
  });

  it('Idempotency-Key: a claim left by a request that died with its instance is taken over after a minute, a live one is not', async () => {
    const gina = await registerUser(t);
    const db = t.app.get(DbRouter);
    const claim = (key: string, agoMs: number) =>
      db.execute(
        `INSERT INTO idempotency_keys (user_id, \`key\`, request_hash, status, created_at)
         VALUES (?, ?, ?, 'in_progress', ?)`,
        [
          gina.user.id,
          key,
          requestHash(normalizeItems([{ sku, quantity: 1 }])),
          new Date(Date.now() - agoMs),
        ],
      );
    // The crashed request's claim (its order transaction never committed): the retry creates the order.
    await claim('crashed', 2 * 60_000);
    const retried = await placeOrder(t, gina.accessToken, [{ sku, quantity: 1 }], 'crashed');
    expect(retried.status).toBe(201);
    const replay = await placeOrder(t, gina.accessToken, [{ sku, quantity: 1 }], 'crashed');
    expect(replay.body.id).toBe(retried.body.id);
    // A claim seconds old may still be working: 409, and nothing is created.
    await claim('running', 2000);
    const busy = await placeOrder(t, gina.accessToken, [{ sku, quantity: 1 }], 'running');
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    const list = await http('GET', t.api('/orders'), { token: gina.accessToken });
    expect(list.body.items).toHaveLength(1);
  });

  it('Idempotency-Key: a request whose claim was taken over cannot complete it — at most one order per key', async () => {
    const hank = await registerUser(t);
    const db = t.app.get(DbRouter);
    const orders = t.app.get(OrdersService);
    // Simulate the slow original: its claim (made long ago) is replaced by a retry's fresh one
    // just before the original's transaction completes it.
    const store = (orders as unknown as { idempotency: { begin: (...a: unknown[]) => Promise<unknown> } })
      .idempotency;
    const realBegin = store.begin.bind(store);
    store.begin = async (...a: unknown[]) => {
      const r = await realBegin(...a);
      await db.execute('UPDATE idempotency_keys SET created_at = ? WHERE user_id = ? AND `key` = ?', [
        new Date(Date.now() + 5000),
        hank.user.id,
        'fenced',
      ]);
      return r;
    };
    try {
      const res = await placeOrder(t, hank.accessToken, [{ sku, quantity: 1 }], 'fenced');
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    } finally {
      store.begin = realBegin;
    }
    const list = await http('GET', t.api('/orders'), { token: hank.accessToken });
    expect(list.body.items).toHaveLength(0);
  });
});

describe('orders: payment window expiry', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp({ ORDER_PAYMENT_TTL_MS: '1500' });
    admin = await adminToken(t);
  });
  afterAll(() => t?.close());

  it('expires an unpaid order after ORDER_PAYMENT_TTL_MS and releases its stock', async () => {
    const sku = uniqueSku('EXP');
    await createProduct(t, admin, [{ sku, price: 900, stockOnHand: 5 }]);
    const user = await registerUser(t);
    const o = await placeOrder(t, user.accessToken, [{ sku, quantity: 2 }]);
    expect(o.status).toBe(201);
    expect(await stockOf(t, admin, sku)).toMatchObject({ reserved: 2, available: 3 });
    const expired = await eventually(async () => {
      const r = await http('GET', t.api(`/orders/${o.body.id}`), { token: user.accessToken });
      return r.body.status === 'EXPIRED' ? r : undefined;
    }, 15000);
    expect(expired.status).toBe(200);
    expect(await stockOf(t, admin, sku)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
  });

  it('expiry is a sweep over the orders table: nothing per order in Redis, each overdue order expired once, a paid one left paid, a job of an earlier version still run', async () => {
    const sku = uniqueSku('SWEEP');
    await createProduct(t, admin, [{ sku, price: 300, stockOnHand: 10 }]);
    const user = await registerUser(t);
    const orders = t.app.get(OrdersService);
    const place = async () =>
      (await placeOrder(t, user.accessToken, [{ sku, quantity: 1 }])).body.id as string;
    const [a, b, c] = [await place(), await place(), await place()];
    expect(await orders.markPaid(b, { paymentId: 'pay-sweep' })).toBe('paid');
    // Nothing waits in Redis for these orders' windows to close.
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.orders));
    const waiting = [...(await queue.getDelayed()), ...(await queue.getWaiting())];
    expect(waiting.filter((j) => [a, b, c].includes((j.data as { orderId?: string }).orderId ?? ''))).toEqual(
      [],
    );

    const status = async (id: string) => (await orders.getForSystem(id))?.status;
    await eventually(async () => (await status(a)) === 'EXPIRED' && (await status(c)) === 'EXPIRED', 15000);
    expect(await status(b)).toBe('PAID');
    expect(await stockOf(t, admin, sku)).toMatchObject({ onHand: 9, reserved: 0, available: 9 });
    // Another sweep (a second worker's, a late one) changes nothing for them.
    await t.app.get(OrderExpiryProcessor).expireDue();
    expect([await status(a), await status(b), await status(c)]).toEqual(['EXPIRED', 'PAID', 'EXPIRED']);
    expect(await orders.expire(a)).toBe(false);
    const movements = await t.app
      .get(DbRouter)
      .primaryReader()
      .query("SELECT COUNT(*) AS n FROM outbox WHERE aggregate_id IN (?) AND type = 'order.expired'", [
        [a, b, c],
      ]);
    expect(Number(movements[0].n)).toBe(2);

    // A delayed `expire` job queued by an earlier version before an upgrade still expires its order.
    const d = await place();
    await queue.add('expire', { orderId: d }, { jobId: `expire:${d}` });
    await eventually(async () => (await status(d)) === 'EXPIRED', 10000);
    expect(await stockOf(t, admin, sku)).toMatchObject({ onHand: 9, reserved: 0 });
  });

  it('expiry racing a payment: exactly one wins per order and stock ends consistent', async () => {
    const sku = uniqueSku('RACE');
    await createProduct(t, admin, [{ sku, price: 100, stockOnHand: 20 }]);
    const user = await registerUser(t);
    const orders = t.app.get(OrdersService);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push((await placeOrder(t, user.accessToken, [{ sku, quantity: 1 }])).body.id);
    const outcomes = await Promise.all(
      ids.map(async (id, i) => {
        const [expired, paid] = await Promise.all([
          orders.expire(id),
          orders.markPaid(id, { paymentId: `pay-${i}` }),
        ]);
        return { id, expired, paid };
      }),
    );
    let paidCount = 0;
    for (const o of outcomes) {
      expect([o.expired, o.paid === 'paid']).toContainEqual(true);
      expect(o.expired && o.paid === 'paid').toBe(false);
      const view = await orders.getForSystem(o.id);
      expect(view?.status).toBe(o.expired ? 'EXPIRED' : 'PAID');
      if (o.paid === 'paid') paidCount++;
    }
    // Paid units left the warehouse, expired ones went back to available.
    expect(await stockOf(t, admin, sku)).toMatchObject({ onHand: 20 - paidCount, reserved: 0 });
    // A late expiry or a repeated payment changes nothing.
    for (const o of outcomes) {
      expect(await orders.expire(o.id)).toBe(false);
      expect(await orders.markPaid(o.id, { paymentId: 'another' })).toBe('not_payable');
    }
  });
});
