import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CaughtMail, MailCatcher } from '../../scripts/infra/mail-catcher';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { RegisteredUser, adminToken, registerUser } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import {
  CARDS,
  createSku,
  deliver,
  eventFor,
  openPayment,
  orderStatus,
  paymentOf,
  placeOrder,
  stock,
  waitForStatus,
} from './support';

const isReceipt = (to: string, orderId: string) => (m: CaughtMail) =>
  m.to.includes(to) && m.subject === `Payment received for order ${orderId}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('payments: creation, signed webhooks, receipts, refunds and the sandbox provider', () => {
  let t: TestApp;
  let mail: MailCatcher;
  let admin: string;
  let db: DbRouter;
  // Two accounts for the whole file: registrations are rate-limited per address.
  let buyer: RegisteredUser;
  let other: RegisteredUser;
  beforeAll(async () => {
    mail = new MailCatcher({ smtpPort: 0 });
    await mail.start();
    t = await startApp({
      SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
      SANDBOX_DUPLICATE_PERCENT: '100',
      SANDBOX_WEBHOOK_BACKOFF_MS: '100',
    });
    admin = await adminToken(t);
    db = t.app.get(DbRouter);
    buyer = await registerUser(t);
    other = await registerUser(t);
  });
  afterAll(async () => {
    await t?.close();
    await mail?.stop();
  });

  const eventsOf = async (paymentId: string) =>
    (await db.primary.query('SELECT id, type, outcome FROM payment_events WHERE payment_id = ?', [
      paymentId,
    ])) as { id: string; type: string; outcome: string }[];

  it('opens a PENDING payment for the amount of the order, once per order, for its owner only', async () => {
    const sku = await createSku(t, admin, 10, 1250);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);

    const [a, b, c] = await Promise.all(
      [1, 2, 3].map(() =>
        http('POST', t.api('/payments'), { token: buyer.accessToken, body: { orderId: order.id } }),
      ),
    );
    expect(a.status).toBe(201);
    expect(a.body).toEqual(
      expect.objectContaining({
        orderId: order.id,
        status: 'PENDING',
        amount: 2500,
        currency: 'EUR',
        provider: 'sandbox',
      }),
    );
    // Concurrent calls cannot open two: the unique active-payment key decides, all get the same one.
    expect(new Set([a.body.id, b.body.id, c.body.id]).size).toBe(1);
    expect(
      (await http('POST', t.api('/payments'), { token: buyer.accessToken, body: { orderId: order.id } })).body
        .id,
    ).toBe(a.body.id);
    expect(await db.primary.query('SELECT id FROM payments WHERE order_id = ?', [order.id])).toHaveLength(1);

    const foreign = await http('POST', t.api('/payments'), {
      token: other.accessToken,
      body: { orderId: order.id },
    });
    expect(foreign.status).toBe(404);
    expect((await http('POST', t.api('/payments'), { body: { orderId: order.id } })).status).toBe(401);
    const bad = await http('POST', t.api('/payments'), {
      token: buyer.accessToken,
      body: { orderId: 'nope' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it("answers 404 for another user's payment, and shows it to its owner and to an admin", async () => {
    const sku = await createSku(t, admin, 5);
    const payment = await openPayment(
      t,
      buyer.accessToken,
      (await placeOrder(t, buyer.accessToken, sku, 1)).id,
    );

    const foreign = await http('GET', t.api(`/payments/${payment.id}`), { token: other.accessToken });
    expect(foreign.status).toBe(404);
    expect(foreign.body).toEqual(expect.objectContaining({ statusCode: 404, code: 'PAYMENT_NOT_FOUND' }));
    const confirm = await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: other.accessToken,
      body: { card: CARDS.success },
    });
    expect(confirm.status).toBe(404);
    expect((await http('GET', t.api(`/payments/${payment.id}`), { token: buyer.accessToken })).status).toBe(
      200,
    );
    expect((await http('GET', t.api(`/payments/${payment.id}`), { token: admin })).status).toBe(200);
    expect(
      (await http('GET', t.api('/payments/00000000-0000-7000-8000-000000000000'), { token: admin })).status,
    ).toBe(404);
  });

  it('refuses a tampered body, a wrong secret, an hour-old timestamp and a missing signature with 400, changing nothing', async () => {
    const sku = await createSku(t, admin, 10);
    const order = await placeOrder(t, buyer.accessToken, sku, 3);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    const event = eventFor(payment);
    const before = await stock(t, admin, sku);

    const tampered = JSON.stringify({ ...event, data: { ...event.data, amount: 1 } });
    const cases = [
      { name: 'tampered body', res: await deliver(t, event, { body: tampered }), code: 'INVALID_SIGNATURE' },
      {
        name: 'wrong secret',
        res: await deliver(t, event, { secret: 'not-the-webhook-secret' }),
        code: 'INVALID_SIGNATURE',
      },
      {
        name: 'hour-old timestamp',
        res: await deliver(t, event, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
        code: 'STALE_WEBHOOK',
      },
      { name: 'no signature', res: await deliver(t, event, { signature: null }), code: 'INVALID_SIGNATURE' },
      {
        name: 'garbage signature',
        res: await deliver(t, event, { signature: 'v1=abc' }),
        code: 'INVALID_SIGNATURE',
      },
    ];
    for (const c of cases) {
      expect({ case: c.name, status: c.res.status }).toEqual({ case: c.name, status: 400 });
      expect(c.res.body).toEqual({
        statusCode: 400,
        code: c.code,
        message: expect.any(String),
        requestId: expect.any(String),
      });
    }

    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('PENDING');
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PENDING_PAYMENT');
    expect(await stock(t, admin, sku)).toEqual(before);
    expect(await eventsOf(payment.id)).toEqual([]);
    // Nothing about the event was recorded: the genuine delivery of the same id is still applied.
    const genuine = await deliver(t, event);
    expect(genuine.status).toBe(200);
    expect(genuine.body.outcome).toBe('applied');
  });

  it('applies a valid succeeded event: order PAID, stock committed once, receipt mailed', async () => {
    const sku = await createSku(t, admin, 10, 1500);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 10, reserved: 2 }));
    const payment = await openPayment(t, buyer.accessToken, order.id);

    const res = await deliver(t, eventFor(payment));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({ received: true, outcome: 'applied' }));
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PAID');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('SUCCEEDED');
    expect(await stock(t, admin, sku)).toEqual(
      expect.objectContaining({ onHand: 8, reserved: 0, available: 8 }),
    );

    const receipt = await mail.waitFor(isReceipt(buyer.email, order.id), 15000);
    expect(receipt.text).toContain(payment.id);
    expect(receipt.text).toMatch(/30\.00/);
    // A paid order takes no second payment.
    const again = await http('POST', t.api('/payments'), {
      token: buyer.accessToken,
      body: { orderId: order.id },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ORDER_NOT_PAYABLE');
  });

  it('applies the same event delivered 5x concurrently and out of order, with a late failed event, exactly once', async () => {
    const sku = await createSku(t, admin, 10);
    const order = await placeOrder(t, buyer.accessToken, sku, 4);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    const succeeded = eventFor(payment, 'payment.succeeded');
    const failed = eventFor(payment, 'payment.failed');

    // The failed event is older at the PSP but arrives interleaved with the success's redeliveries.
    const first = await deliver(t, succeeded);
    const rest = await Promise.all([
      deliver(t, failed),
      deliver(t, succeeded),
      deliver(t, succeeded),
      deliver(t, failed),
      deliver(t, succeeded),
      deliver(t, succeeded),
    ]);
    for (const r of [first, ...rest]) expect(r.status).toBe(200);
    const outcomes = [first, ...rest].map((r) => r.body.outcome as string);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(5); // 4 success replays + 1 failed replay
    expect(outcomes.filter((o) => o === 'ignored_state')).toHaveLength(1); // failed after succeeded

    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PAID');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('SUCCEEDED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 6, reserved: 0 }));
    expect((await eventsOf(payment.id)).map((e) => e.outcome).sort()).toEqual(['applied', 'ignored_state']);
    await mail.waitFor(isReceipt(buyer.email, order.id), 15000);
    await sleep(1000);
    expect(mail.messages.filter(isReceipt(buyer.email, order.id))).toHaveLength(1);
  });

  it('records and ignores a signed event whose amount does not match the payment', async () => {
    const sku = await createSku(t, admin, 3);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    const res = await deliver(t, eventFor({ ...payment, amount: payment.amount - 1 }));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('mismatch');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('PENDING');
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PENDING_PAYMENT');
  });

  it('sandbox: the success card leads, asynchronously and through a signed (and duplicated) webhook, to a PAID order', async () => {
    const sku = await createSku(t, admin, 5);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);

    const confirm = await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: CARDS.success },
    });
    expect(confirm.status).toBe(202);
    expect(confirm.body.status).toBe('PENDING'); // the answer comes later, by webhook
    await waitForStatus(t, buyer.accessToken, order.id, 'PAID');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('SUCCEEDED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 4, reserved: 0 }));
    await mail.waitFor(isReceipt(buyer.email, order.id), 15000);
    // SANDBOX_DUPLICATE_PERCENT=100: the event was delivered again; it still counts once.
    await sleep(1000);
    expect(await eventsOf(payment.id)).toEqual([
      expect.objectContaining({ type: 'payment.succeeded', outcome: 'applied' }),
    ]);
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 4, reserved: 0 }));

    const twice = await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: CARDS.success },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('PAYMENT_NOT_PENDING');
  });

  it('sandbox: the decline card fails the payment, the order stays PENDING_PAYMENT and can be paid again', async () => {
    const sku = await createSku(t, admin, 5);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);
    const payment = await openPayment(t, buyer.accessToken, order.id);

    const confirm = await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: CARDS.declined },
    });
    expect(confirm.status).toBe(202);
    await eventually(
      async () => (await paymentOf(t, buyer.accessToken, payment.id)).status === 'FAILED',
      15000,
    );
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PENDING_PAYMENT');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 5, reserved: 2 }));

    const unknownCard = await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: '5555555555554444' },
    });
    expect(unknownCard.status).toBe(409); // the failed payment is no longer PENDING

    // A failed payment frees the order for a new attempt.
    const retry = await openPayment(t, buyer.accessToken, order.id);
    expect(retry.id).not.toBe(payment.id);
    await http('POST', t.api(`/payments/${retry.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: CARDS.success },
    });
    await waitForStatus(t, buyer.accessToken, order.id, 'PAID');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('FAILED');
  });

  it('admin refunds: partial then the rest; the order becomes REFUNDED and is restocked; never more than captured', async () => {
    const sku = await createSku(t, admin, 10, 1000);
    const order = await placeOrder(t, buyer.accessToken, sku, 3);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    await deliver(t, eventFor(payment));
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 7, reserved: 0 }));

    const forbidden = await http('POST', t.api(`/payments/${payment.id}/refunds`), {
      token: buyer.accessToken,
      body: {},
    });
    expect(forbidden.status).toBe(403);

    const partial = await http('POST', t.api(`/payments/${payment.id}/refunds`), {
      token: admin,
      body: { amount: 1000 },
    });
    expect(partial.status).toBe(201);
    expect(partial.body).toEqual(
      expect.objectContaining({ amount: 1000, status: 'SUCCEEDED', reason: 'requested' }),
    );
    expect(await paymentOf(t, admin, payment.id)).toEqual(
      expect.objectContaining({ status: 'PARTIALLY_REFUNDED', refundedAmount: 1000 }),
    );
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PAID');

    // Concurrent refunds of 1500 each against 2000 left: exactly one fits.
    const racing = await Promise.all(
      [1, 2, 3].map(() =>
        http('POST', t.api(`/payments/${payment.id}/refunds`), { token: admin, body: { amount: 1500 } }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(racing.find((r) => r.status === 409)!.body.code).toBe('PAYMENT_NOT_REFUNDABLE');

    const rest = await http('POST', t.api(`/payments/${payment.id}/refunds`), {
      token: admin,
      body: { restock: true },
    });
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe(500);
    expect(await paymentOf(t, admin, payment.id)).toEqual(
      expect.objectContaining({ status: 'REFUNDED', refundedAmount: 3000 }),
    );
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('REFUNDED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 10, reserved: 0 }));

    const more = await http('POST', t.api(`/payments/${payment.id}/refunds`), {
      token: admin,
      body: { amount: 1 },
    });
    expect(more.status).toBe(409);
    const list = await http('GET', t.api(`/payments/${payment.id}/refunds`), { token: admin });
    expect(list.body.items.map((r: { amount: number }) => r.amount)).toEqual([1000, 1500, 500]);
  });
});

describe('payments: webhooks racing order expiry end in a consistent state', () => {
  let t: TestApp;
  let admin: string;
  const TTL = 1500;
  beforeAll(async () => {
    t = await startApp({ ORDER_PAYMENT_TTL_MS: String(TTL) });
    admin = await adminToken(t);
  });
  afterAll(() => t?.close());

  it('refunds automatically a success that arrives after the order expired; the order stays EXPIRED, stock intact', async () => {
    const buyer = await registerUser(t);
    const sku = await createSku(t, admin, 10);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    await waitForStatus(t, buyer.accessToken, order.id, 'EXPIRED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 10, reserved: 0 }));

    const res = await deliver(t, eventFor(payment));
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('auto_refund');
    expect(await paymentOf(t, buyer.accessToken, payment.id)).toEqual(
      expect.objectContaining({ status: 'REFUNDED', refundedAmount: payment.amount }),
    );
    const refunds = await http('GET', t.api(`/payments/${payment.id}/refunds`), { token: admin });
    expect(refunds.body.items).toEqual([
      expect.objectContaining({ amount: payment.amount, status: 'SUCCEEDED', reason: 'order_not_payable' }),
    ]);
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('EXPIRED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 10, reserved: 0 }));
  });

  it('ends every order either PAID (payment SUCCEEDED) or EXPIRED (payment REFUNDED), never both, never losing stock', async () => {
    const buyer = await registerUser(t);
    const sku = await createSku(t, admin, 40);
    const n = 8;
    const orders = [];
    for (let i = 0; i < n; i++) {
      const order = await placeOrder(t, buyer.accessToken, sku, 2);
      orders.push({
        order,
        payment: await openPayment(t, buyer.accessToken, order.id),
        createdAt: Date.now(),
      });
    }
    // Deliveries spread across the expiry instant so some win and some lose the race.
    await Promise.all(
      orders.map(async ({ payment, createdAt }, i) => {
        const at = createdAt + TTL - 400 + i * 120;
        await sleep(Math.max(0, at - Date.now()));
        const res = await deliver(t, eventFor(payment));
        expect(res.status).toBe(200);
      }),
    );
    // Let every expiry run.
    await sleep(TTL + 1500);

    let paid = 0;
    for (const { order, payment } of orders) {
      const status = await orderStatus(t, buyer.accessToken, order.id);
      const p = await paymentOf(t, buyer.accessToken, payment.id);
      if (status === 'PAID') {
        paid++;
        expect(p).toEqual(expect.objectContaining({ status: 'SUCCEEDED', refundedAmount: 0 }));
      } else {
        expect(status).toBe('EXPIRED');
        expect(p).toEqual(expect.objectContaining({ status: 'REFUNDED', refundedAmount: p.amount }));
      }
    }
    expect(await stock(t, admin, sku)).toEqual(
      expect.objectContaining({ onHand: 40 - 2 * paid, reserved: 0 }),
    );
  });
});

describe('payments: the sandbox retries a webhook the shop does not acknowledge', () => {
  let t: TestApp;
  let admin: string;
  let flaky: Server;
  const seen: number[] = [];
  let target = '';
  beforeAll(async () => {
    // Stands between the PSP and the shop: answers 503 twice, then passes deliveries through.
    flaky = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (seen.push(Date.now()) <= 2) {
          res.writeHead(503).end();
          return;
        }
        void fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature': String(req.headers['x-signature']) },
          body: Buffer.concat(chunks),
        }).then(async (r) =>
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
        );
      });
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()));
    const port = (flaky.address() as AddressInfo).port;
    t = await startApp({
      SANDBOX_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      SANDBOX_WEBHOOK_BACKOFF_MS: '200',
      SANDBOX_DUPLICATE_PERCENT: '0',
    });
    target = t.api('/payments/webhooks/sandbox');
    admin = await adminToken(t);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => flaky?.close(r));
  });

  it('redelivers with exponential backoff until a 2xx, then the order is PAID', async () => {
    const buyer = await registerUser(t);
    const sku = await createSku(t, admin, 3);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: CARDS.success },
    });
    await waitForStatus(t, buyer.accessToken, order.id, 'PAID');
    expect(seen).toHaveLength(3);
    // 200 ms, then 400 ms: each wait longer than the one before.
    expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(180);
    expect(seen[2] - seen[1]).toBeGreaterThan(seen[1] - seen[0]);
  });
});
