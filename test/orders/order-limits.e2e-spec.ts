import { status } from '@grpc/grpc-js';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { adminToken, login, registerUser, RegisteredUser } from '../support/auth';
import { openFlashSale } from '../support/flash-sale';
import { orderServiceClient, rpcError, unary } from '../support/grpc';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { deliver, eventFor, openPayment, waitForStatus } from '../payments/support';
import { createProduct, placeOrder, stockOf, uniqueSku } from './builders';

/**
 * Denial of inventory (issue 20, docs/decisions/0018-order-limits.md): one customer cannot hold
 * the stock. Measured before this change: one new customer's single POST /orders with five lines
 * of the same SKU at quantity 1000 reserved all 5,000 units. Every figure below is the
 * inventory's own `reserved` (GET /inventory/:sku as admin).
 *
 * Caps on these apps: 3 unpaid orders and 10 unpaid units per SKU per customer.
 */
const CAPS = { ORDER_MAX_UNPAID_ORDERS: '3', ORDER_MAX_UNPAID_UNITS_PER_SKU: '10', ORDER_RATE_LIMIT: '1000' };

const cancel = (t: TestApp, token: string, id: string) =>
  http('POST', t.api(`/orders/${id}/cancel`), { token });

describe('order limits: one customer cannot hoard stock', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  beforeAll(async () => {
    // Two instances: the caps live in MySQL, the rate in Redis — shared by both.
    [a, b] = await Promise.all([startApp(CAPS), startApp(CAPS)]);
    admin = await adminToken(a);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('the reported attack: five lines of 1000 of one SKU are merged (5000) and refused; nothing is reserved', async () => {
    const sku = uniqueSku('HOARD');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 5000 }]);
    const mallory = await registerUser(a);
    const res = await placeOrder(
      a,
      mallory.accessToken,
      Array.from({ length: 5 }, () => ({ sku, quantity: 1000 })),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.message).toContain(`${sku}: 5000`);
    expect(await stockOf(a, admin, sku)).toMatchObject({ onHand: 5000, reserved: 0, available: 5000 });
  });

  it('duplicate lines are added up before the per-SKU cap: 6 + 6 of one SKU is 409 SKU_HOLD_LIMIT, 10 in one line passes', async () => {
    const sku = uniqueSku('DUP');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
    const mallory = await registerUser(a);
    const twice = await placeOrder(a, mallory.accessToken, [
      { sku, quantity: 6 },
      { sku, quantity: 6 },
    ]);
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({
      code: 'SKU_HOLD_LIMIT',
      details: { sku, limit: 10, requested: 12 },
    });
    expect(typeof twice.body.requestId).toBe('string');
    expect((await stockOf(a, admin, sku)).reserved).toBe(0);
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 10 }])).status).toBe(201);
    expect((await stockOf(a, admin, sku)).reserved).toBe(10);
  });

  it('units of one SKU add up across unpaid orders: past 10 is 409 SKU_HOLD_LIMIT on either instance; a second customer still buys', async () => {
    const sku = uniqueSku('HOLD');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
    const mallory = await registerUser(a);
    const first = await placeOrder(a, mallory.accessToken, [{ sku, quantity: 7 }]);
    expect(first.status).toBe(201);
    const more = await placeOrder(b, mallory.accessToken, [{ sku, quantity: 4 }]);
    expect(more.status).toBe(409);
    expect(more.body).toMatchObject({
      code: 'SKU_HOLD_LIMIT',
      details: { sku, limit: 10, held: 7, requested: 4 },
    });
    expect((await placeOrder(b, mallory.accessToken, [{ sku, quantity: 3 }])).status).toBe(201);
    expect((await stockOf(a, admin, sku)).reserved).toBe(10);
    // Another SKU is another budget.
    const other = uniqueSku('HOLD2');
    await createProduct(a, admin, [{ sku: other, price: 500, stockOnHand: 10 }]);
    expect((await placeOrder(a, mallory.accessToken, [{ sku: other, quantity: 1 }])).status).toBe(201);
    // Someone else is not limited by mallory's holdings.
    const alice = await registerUser(a);
    expect((await placeOrder(a, alice.accessToken, [{ sku, quantity: 10 }])).status).toBe(201);
    expect((await stockOf(a, admin, sku)).reserved).toBe(20);
    // Cancelling gives the units back to mallory's budget (and the stock to everyone).
    expect((await cancel(a, mallory.accessToken, first.body.id)).status).toBe(200);
    expect((await stockOf(a, admin, sku)).reserved).toBe(13);
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 7 }])).status).toBe(201);
    // Over both caps now: the unpaid-orders cap is checked first.
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).body.code).toBe(
      'UNPAID_ORDER_LIMIT',
    );
  });

  it('repeated orders stop at 3 unpaid with 409 UNPAID_ORDER_LIMIT; cancel, payment and expiry each give a slot back', async () => {
    const sku = uniqueSku('UNPAID');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
    const skus = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const s = uniqueSku(`UNPAID${i}`);
        await createProduct(a, admin, [{ sku: s, price: 500, stockOnHand: 1000 }]);
        return s;
      }),
    );
    const mallory = await registerUser(a);
    const placed: string[] = [];
    for (const s of skus) {
      const r = await placeOrder(a, mallory.accessToken, [{ sku: s, quantity: 1 }]);
      expect(r.status).toBe(201);
      placed.push(r.body.id);
    }
    const fourth = await placeOrder(b, mallory.accessToken, [{ sku, quantity: 1 }]);
    expect(fourth.status).toBe(409);
    expect(fourth.body).toMatchObject({ code: 'UNPAID_ORDER_LIMIT', details: { limit: 3 } });
    expect((await stockOf(a, admin, sku)).reserved).toBe(0);
    // Cancel one: a slot.
    expect((await cancel(a, mallory.accessToken, placed[0])).status).toBe(200);
    const afterCancel = await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }]);
    expect(afterCancel.status).toBe(201);
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).body.code).toBe(
      'UNPAID_ORDER_LIMIT',
    );
    // Pay one (signed PSP webhook): a slot; a paid order is not held against the customer.
    const payment = await openPayment(a, mallory.accessToken, placed[1]);
    expect((await deliver(a, eventFor(payment))).status).toBe(200);
    await waitForStatus(a, mallory.accessToken, placed[1], 'PAID');
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).status).toBe(201);
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).body.code).toBe(
      'UNPAID_ORDER_LIMIT',
    );
  });

  it('an expired order gives its slot and units back', async () => {
    const t = await startApp({ ...CAPS, ORDER_MAX_UNPAID_ORDERS: '1', ORDER_PAYMENT_TTL_MS: '1500' });
    try {
      const sku = uniqueSku('EXPIRE');
      await createProduct(t, admin, [{ sku, price: 500, stockOnHand: 100 }]);
      const mallory = await registerUser(t);
      const first = await placeOrder(t, mallory.accessToken, [{ sku, quantity: 10 }]);
      expect(first.status).toBe(201);
      expect((await placeOrder(t, mallory.accessToken, [{ sku, quantity: 1 }])).body.code).toBe(
        'UNPAID_ORDER_LIMIT',
      );
      await waitForStatus(t, mallory.accessToken, first.body.id, 'EXPIRED', 20000);
      expect((await stockOf(t, admin, sku)).reserved).toBe(0);
      expect((await placeOrder(t, mallory.accessToken, [{ sku, quantity: 10 }])).status).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('a concurrent burst of one customer cannot pass the caps: 30 parallel orders on two instances → exactly 3 × 201, the rest 409', async () => {
    const sku = uniqueSku('BURST');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
    const mallory = await registerUser(a);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        placeOrder(i % 2 ? a : b, mallory.accessToken, [{ sku, quantity: 1 }]),
      ),
    );
    const byStatus = count(answers.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()));
    expect(byStatus).toEqual({ '201': 3, '409 UNPAID_ORDER_LIMIT': 27 });
    expect((await stockOf(a, admin, sku)).reserved).toBe(3);
  });

  it('a concurrent burst against the per-SKU cap: 25 parallel orders of 2 units → exactly 5 × 201 (10 units), while another customer buys', async () => {
    const t = await startApp({ ...CAPS, ORDER_MAX_UNPAID_ORDERS: '100' });
    try {
      const sku = uniqueSku('BURSTSKU');
      await createProduct(t, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
      const [mallory, alice] = await Promise.all([registerUser(t), registerUser(t)]);
      const [answers, alices] = await Promise.all([
        Promise.all(
          Array.from({ length: 25 }, () => placeOrder(t, mallory.accessToken, [{ sku, quantity: 2 }])),
        ),
        placeOrder(t, alice.accessToken, [{ sku, quantity: 10 }]),
      ]);
      expect(count(answers.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()))).toEqual({
        '201': 5,
        '409 SKU_HOLD_LIMIT': 20,
      });
      expect(alices.status).toBe(201);
      expect((await stockOf(t, admin, sku)).reserved).toBe(20);
    } finally {
      await t.close();
    }
  });

  it('the same over gRPC CreateOrder: merged lines INVALID_ARGUMENT, caps FAILED_PRECONDITION with the stable code in error-code', async () => {
    const sku = uniqueSku('GRPC');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 5000 }]);
    const mallory = await registerUser(a);
    const client = orderServiceClient(a.grpcUrl);
    try {
      const hoard = await rpcError(
        unary(
          client,
          'CreateOrder',
          { items: Array.from({ length: 5 }, () => ({ sku, quantity: 1000 })) },
          mallory.accessToken,
        ),
      );
      expect(hoard.code).toBe(status.INVALID_ARGUMENT);
      const dup = await rpcError(
        unary(
          client,
          'CreateOrder',
          {
            items: [
              { sku, quantity: 6 },
              { sku, quantity: 6 },
            ],
          },
          mallory.accessToken,
        ),
      );
      expect(dup.code).toBe(status.FAILED_PRECONDITION);
      expect(dup.metadata.get('error-code')).toEqual(['SKU_HOLD_LIMIT']);
      for (let i = 0; i < 3; i++)
        await unary(client, 'CreateOrder', { items: [{ sku, quantity: 1 }] }, mallory.accessToken);
      const fourth = await rpcError(
        unary(client, 'CreateOrder', { items: [{ sku, quantity: 1 }] }, mallory.accessToken),
      );
      expect(fourth.code).toBe(status.FAILED_PRECONDITION);
      expect(fourth.metadata.get('error-code')).toEqual(['UNPAID_ORDER_LIMIT']);
      expect((await stockOf(a, admin, sku)).reserved).toBe(3);
      const alice = await registerUser(a);
      await unary(client, 'CreateOrder', { items: [{ sku, quantity: 10 }] }, alice.accessToken);
      expect((await stockOf(a, admin, sku)).reserved).toBe(13);
    } finally {
      client.close();
    }
  });

  it('flash-sale orders are not held against the caps: a customer at the unpaid cap still gets the unit they bought', async () => {
    const sku = uniqueSku('FLASHCAP');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 100 }]);
    const saleId = await openFlashSale(a, admin, { sku, quantity: 5, perUserLimit: 1 });
    const mallory = await registerUser(a);
    for (let i = 0; i < 3; i++)
      expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).status).toBe(201);
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).body.code).toBe(
      'UNPAID_ORDER_LIMIT',
    );
    const buy = await http('POST', a.api(`/flash-sales/${saleId}/purchase`), { token: mallory.accessToken });
    expect(buy.status).toBe(202);
    const result = await eventually(async () => {
      const r = await http('GET', a.api(`/flash-sales/${saleId}/purchase`), { token: mallory.accessToken });
      return r.body.status === 'confirmed' && r.body.orderId ? r.body : undefined;
    }, 20000);
    const order = await http('GET', a.api(`/orders/${result.orderId}`), { token: mallory.accessToken });
    expect(order.body).toMatchObject({ status: 'PENDING_PAYMENT', source: 'flash_sale' });
    // Cancelling the flash-sale order does not free a web slot it never took.
    expect((await cancel(a, mallory.accessToken, result.orderId)).status).toBe(200);
    expect((await placeOrder(a, mallory.accessToken, [{ sku, quantity: 1 }])).body.code).toBe(
      'UNPAID_ORDER_LIMIT',
    );
  });

  it('the OpenAPI document lists 409 SKU_HOLD_LIMIT / UNPAID_ORDER_LIMIT and 429 RATE_LIMITED on POST /orders', async () => {
    const doc = (await http('GET', `${a.url}/docs-json`)).body;
    const op = doc.paths['/api/v1/orders'].post;
    expect(op.responses['409'].description).toMatch(/SKU_HOLD_LIMIT/);
    expect(op.responses['409'].description).toMatch(/UNPAID_ORDER_LIMIT/);
    expect(op.responses['429'].description).toMatch(/RATE_LIMITED/);
    expect(op.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('an unverified customer gets the tighter caps until the email address is verified (the token says so)', async () => {
    const t = await startApp({
      ...CAPS,
      ORDER_UNVERIFIED_MAX_UNPAID_ORDERS: '1',
      ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU: '2',
    });
    try {
      const sku = uniqueSku('UNVERIFIED');
      await createProduct(t, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
      const fresh = await registerUser(t);
      const tooMany = await placeOrder(t, fresh.accessToken, [{ sku, quantity: 3 }]);
      expect(tooMany.status).toBe(409);
      expect(tooMany.body).toMatchObject({ code: 'SKU_HOLD_LIMIT', details: { limit: 2 } });
      expect((await placeOrder(t, fresh.accessToken, [{ sku, quantity: 2 }])).status).toBe(201);
      const second = await placeOrder(t, fresh.accessToken, [{ sku, quantity: 1 }]);
      expect(second.status).toBe(409);
      expect(second.body.code).toBe('UNPAID_ORDER_LIMIT');

      // Verified (the flow itself is test/users/account-flows): the next token carries `ev`, and
      // the configured caps apply — 3 orders, 10 units of the SKU.
      await t.app
        .get(DbRouter)
        .execute('UPDATE users SET email_verified_at = UTC_TIMESTAMP(3) WHERE id = ?', [fresh.user.id]);
      const verified = await login(t, fresh.email, fresh.password);
      expect((await placeOrder(t, verified.accessToken, [{ sku, quantity: 5 }])).status).toBe(201);
      expect((await placeOrder(t, verified.accessToken, [{ sku, quantity: 3 }])).status).toBe(201);
      const fourth = await placeOrder(t, verified.accessToken, [{ sku, quantity: 1 }]);
      expect(fourth.body.code).toBe('UNPAID_ORDER_LIMIT');
      expect(await stockOf(t, admin, sku)).toMatchObject({ reserved: 10 });
    } finally {
      await t.close();
    }
  });
});

describe('order limits: order placement is rate-limited per customer', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  let sku: string;
  beforeAll(async () => {
    const env = { ORDER_MAX_UNPAID_ORDERS: '100', ORDER_RATE_LIMIT: '4', ORDER_RATE_WINDOW_SECONDS: '60' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
    admin = await adminToken(a);
    sku = uniqueSku('RATE');
    await createProduct(a, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('4 per minute across both instances, then 429 RATE_LIMITED with Retry-After (REST) and RESOURCE_EXHAUSTED (gRPC); others unaffected', async () => {
    const mallory: RegisteredUser = await registerUser(a);
    const answers = [];
    for (let i = 0; i < 6; i++)
      answers.push(await placeOrder(i % 2 ? a : b, mallory.accessToken, [{ sku, quantity: 1 }]));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 201, 429, 429]);
    const limited = answers[4];
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const client = orderServiceClient(b.grpcUrl);
    try {
      const err = await rpcError(
        unary(client, 'CreateOrder', { items: [{ sku, quantity: 1 }] }, mallory.accessToken),
      );
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err.metadata.get('error-code')).toEqual(['RATE_LIMITED']);
      expect(Number(err.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
    expect((await stockOf(a, admin, sku)).reserved).toBe(4);
    const alice = await registerUser(a);
    expect((await placeOrder(b, alice.accessToken, [{ sku, quantity: 1 }])).status).toBe(201);
  });
});

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
