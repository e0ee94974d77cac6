import { DbRouter } from '../../src/infra/database/db-router.service';
import { BulkUser, adminToken, bulkUsers } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';
import { couponUsed, createCoupon, createSkuIn, tag } from './support';

/**
 * Issue 23, "a limited coupon is the same race as limited stock": the redemption is part of the
 * order's one-round-trip batch with server-side guards (decision 0022), so under any concurrency,
 * over two instances, the usage limit and the per-customer limit hold exactly, and a cancelled
 * order gives its use back exactly once.
 */
describe('coupon redemption under concurrency (two app instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  let db: DbRouter;
  let sku: string;

  beforeAll(async () => {
    // The per-customer order caps (decision 0018) are tested in test/orders; here they stay out of the way.
    const env = { APP_ROLE: 'api', ORDER_RATE_LIMIT: '1000000', ORDER_MAX_UNPAID_ORDERS: '1000' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
    admin = await adminToken(a);
    db = a.app.get(DbRouter);
    sku = (await createSkuIn(a, admin, { price: 1000, stock: 10_000 })).sku;
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const order = (i: number, token: string, code: string) =>
    http('POST', (i % 2 ? a : b).api('/orders'), {
      token,
      body: { items: [{ sku, quantity: 1 }], couponCode: code },
    });

  async function ledger(couponId: string) {
    const [row] = await db.primaryReader().query(
      `SELECT c.used,
         (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id AND r.status = 'ACTIVE') AS active,
         (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = c.id AND r.status = 'RETURNED') AS returned,
         (SELECT COUNT(*) FROM orders o WHERE o.coupon_code = c.code AND o.status = 'PENDING_PAYMENT') AS pending,
         (SELECT COALESCE(SUM(u.used), 0) FROM coupon_customer_uses u WHERE u.coupon_id = c.id) AS customer_uses
       FROM coupons c WHERE c.id = ?`,
      [couponId],
    );
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
  }

  it('200 concurrent orders for a 50-use coupon → exactly 50 discounted orders; cancellations give the uses back once', async () => {
    const coupon = await createCoupon(a, admin, {
      code: tag('FIFTY'),
      kind: 'percentage',
      percentOff: 20,
      usageLimit: 50,
    });
    const users = await bulkUsers(a, 200, 'coupon');
    const started = Date.now();
    const results = await Promise.all(users.map((u, i) => order(i, u.token, coupon.code)));
    const byStatus: Record<string, number> = {};
    for (const r of results)
      byStatus[`${r.status} ${r.body.code ?? ''}`.trim()] =
        (byStatus[`${r.status} ${r.body.code ?? ''}`.trim()] ?? 0) + 1;
    console.log(
      `200 orders for a 50-use coupon over two instances in ${Date.now() - started} ms: ${JSON.stringify(byStatus)}`,
    );
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(50);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'COUPON_EXHAUSTED')).toBe(
      true,
    );
    expect(results.filter((r) => r.status !== 201 && r.status !== 409)).toEqual([]);
    for (const r of won)
      expect(r.body.breakdown).toMatchObject({ subtotal: 1000, discount: 200, total: 800 });
    expect(await ledger(coupon.id)).toEqual({
      used: 50,
      active: 50,
      returned: 0,
      pending: 50,
      customer_uses: 50,
    });

    // Every discounted order cancelled twice at once, through both instances: 50 win, 50 lose.
    const owners = new Map(won.map((r) => [r.body.id as string, users.find((u) => u.id === r.body.userId)!]));
    const cancels = await Promise.all(
      [...owners].flatMap(([id, u], i) =>
        [a, b].map((app) =>
          http('POST', app.api(`/orders/${id}/cancel`), { token: u.token }).then((r) => ({ r, i })),
        ),
      ),
    );
    expect(cancels.filter(({ r }) => r.status === 200)).toHaveLength(50);
    expect(cancels.filter(({ r }) => r.status === 409 && r.body.code === 'ILLEGAL_TRANSITION')).toHaveLength(
      50,
    );
    expect(await ledger(coupon.id)).toEqual({
      used: 0,
      active: 0,
      returned: 50,
      pending: 0,
      customer_uses: 0,
    });

    // The 50 uses are there again, for exactly 50 of the 150 who missed out.
    const winners = new Set(won.map((r) => r.body.userId as string));
    const losers = users.filter((u) => !winners.has(u.id));
    const again = await Promise.all(losers.map((u, i) => order(i, u.token, coupon.code)));
    expect(again.filter((r) => r.status === 201)).toHaveLength(50);
    expect(await ledger(coupon.id)).toEqual({
      used: 50,
      active: 50,
      returned: 50,
      pending: 50,
      customer_uses: 50,
    });
  }, 180_000);

  it('the per-customer limit holds under concurrent orders of the same customers (COUPON_LIMIT_REACHED)', async () => {
    const coupon = await createCoupon(a, admin, {
      code: tag('TWICE'),
      kind: 'fixed',
      amountOff: 100,
      currency: 'EUR',
      perCustomerLimit: 2,
    });
    const users: BulkUser[] = await bulkUsers(a, 20, 'percustomer');
    // 5 concurrent orders per customer, alternating instances.
    const results = await Promise.all(
      users.flatMap((u) =>
        [0, 1, 2, 3, 4].map((i) => order(i, u.token, coupon.code).then((r) => ({ u, r }))),
      ),
    );
    for (const u of users) {
      const mine = results.filter((x) => x.u === u).map((x) => x.r);
      expect(mine.filter((r) => r.status === 201)).toHaveLength(2);
      expect(mine.filter((r) => r.status === 409).map((r) => r.body.code)).toEqual([
        'COUPON_LIMIT_REACHED',
        'COUPON_LIMIT_REACHED',
        'COUPON_LIMIT_REACHED',
      ]);
    }
    expect(await couponUsed(a, admin, coupon.id)).toBe(40);
    expect(await ledger(coupon.id)).toMatchObject({ used: 40, active: 40, customer_uses: 40 });
    // Cancelling one gives that customer one use back.
    const first = results.find((x) => x.u === users[0] && x.r.status === 201)!.r.body.id;
    expect((await http('POST', a.api(`/orders/${first}/cancel`), { token: users[0].token })).status).toBe(
      200,
    );
    expect((await order(0, users[0].token, coupon.code)).status).toBe(201);
    expect((await order(1, users[0].token, coupon.code)).body.code).toBe('COUPON_LIMIT_REACHED');
  }, 120_000);

  it('one Idempotency-Key uses the coupon once, however often and wherever it is retried', async () => {
    const coupon = await createCoupon(a, admin, {
      code: tag('IDEM'),
      kind: 'percentage',
      percentOff: 5,
      usageLimit: 100,
    });
    const [u] = await bulkUsers(a, 1, 'idem');
    const key = tag('key');
    const send = (app: TestApp) =>
      http('POST', app.api('/orders'), {
        token: u.token,
        body: { items: [{ sku, quantity: 1 }], couponCode: coupon.code },
        headers: { 'idempotency-key': key },
      });
    const results = await Promise.all([a, b, a, b, a, b, a, b].map(send));
    const created = results.filter((r) => r.status === 201);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    // The others are told to retry while the first runs; a retry after it answers the same order.
    expect(
      results.filter((r) => r.status !== 201).every((r) => r.body.code === 'IDEMPOTENCY_IN_PROGRESS'),
    ).toBe(true);
    expect((await send(b)).body.id).toBe(created[0].body.id);
    expect(await couponUsed(a, admin, coupon.id)).toBe(1);
  });
});
