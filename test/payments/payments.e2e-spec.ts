import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CaughtMail, MailCatcher } from '../../scripts/infra/mail-catcher';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { MetricsService } from '../../src/infra/observability/metrics.service';
import { OrdersService } from '../../src/orders';
import { PaymentReconciliation, SandboxPsp } from '../../src/payments/testing';
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
  pspBooks,
  pspCaptures,
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
    (await db
      .primaryReader()
      .query('SELECT id, type, outcome FROM payment_events WHERE payment_id = ?', [paymentId])) as {
      id: string;
      type: string;
      outcome: string;
    }[];

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
    expect(
      await db.primaryReader().query('SELECT id FROM payments WHERE order_id = ?', [order.id]),
    ).toHaveLength(1);

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

  const duplicatesSeen = async () => {
    const m = (await t.app.get(MetricsService).registry.getSingleMetric('shop_payment_events_total')?.get())
      ?.values;
    return m?.find((v) => v.labels.outcome === 'duplicate')?.value ?? 0;
  };

  it('sandbox: the success card leads, asynchronously and through a signed (and duplicated) webhook, to a PAID order', async () => {
    const duplicatesBefore = await duplicatesSeen();
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
    // SANDBOX_DUPLICATE_PERCENT=100: the event was delivered twice (racing); it counted once.
    await eventually(async () => (await duplicatesSeen()) > duplicatesBefore, 15000);
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
    await pspCaptures(t, payment.id);
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
    // The PSP's books agree: 3000 returned, once each.
    expect((await pspBooks(t, payment.id)).refunded).toBe('3000');
  });

  it('a success reported after a failure is a capture: it pays the order if it still can, else it is refunded', async () => {
    const sku = await createSku(t, admin, 10, 1000);
    // A declined card, then a good one on the same payment; the PSP's two events arrive in that order.
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    expect((await deliver(t, eventFor(payment, 'payment.failed'))).body.outcome).toBe('applied');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('FAILED');
    await pspCaptures(t, payment.id);
    expect((await deliver(t, eventFor(payment))).body.outcome).toBe('applied');
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PAID');
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('SUCCEEDED');

    // A failed payment A, then payment B pays the order; A's late capture must be given back.
    const order2 = await placeOrder(t, buyer.accessToken, sku, 1);
    const a = await openPayment(t, buyer.accessToken, order2.id);
    await deliver(t, eventFor(a, 'payment.failed'));
    const b = await openPayment(t, buyer.accessToken, order2.id);
    expect(b.id).not.toBe(a.id);
    await pspCaptures(t, b.id);
    // A's capture wins the race at the PSP: it lands before B's success pays the order, so the
    // close that follows the payment (order.paid) finds A captured and cannot cancel it.
    await pspCaptures(t, a.id);
    expect((await deliver(t, eventFor(b))).body.outcome).toBe('applied');
    expect((await deliver(t, eventFor(a))).body.outcome).toBe('auto_refund');
    expect(await paymentOf(t, buyer.accessToken, a.id)).toEqual(
      expect.objectContaining({ status: 'REFUNDED', refundedAmount: a.amount }),
    );
    expect((await paymentOf(t, buyer.accessToken, b.id)).status).toBe('SUCCEEDED');
    expect(await orderStatus(t, buyer.accessToken, order2.id)).toBe('PAID');
    expect((await pspBooks(t, a.id)).refunded).toBe(String(a.amount));
    // Stock was committed once for the order, by the payment that paid it.
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 8, reserved: 0 }));

    // C declined, then D pays the order: the order.paid close cancels C at the PSP too (a real PSP
    // would let the client retry another card on it), so no card can be charged on C afterwards.
    // A success event for C that the PSP's books contradict: the automatic refund is refused
    // (nothing was captured), C stays SUCCEEDED with a FAILED refund, an admin refund is refused
    // too, and the order paid by D is neither refunded nor restocked.
    const order3 = await placeOrder(t, buyer.accessToken, sku, 1);
    const c = await openPayment(t, buyer.accessToken, order3.id);
    await deliver(t, eventFor(c, 'payment.failed'));
    const d = await openPayment(t, buyer.accessToken, order3.id);
    await pspCaptures(t, d.id);
    await deliver(t, eventFor(d));
    await eventually(async () => (await pspBooks(t, c.id)).status === 'canceled', 15000);
    await expect(pspCaptures(t, c.id)).rejects.toThrow(/canceled/);
    expect((await paymentOf(t, admin, c.id)).status).toBe('FAILED');
    expect((await deliver(t, eventFor(c))).body.outcome).toBe('auto_refund');
    expect(await paymentOf(t, admin, c.id)).toEqual(
      expect.objectContaining({ status: 'SUCCEEDED', refundedAmount: 0 }),
    );
    const manual = await http('POST', t.api(`/payments/${c.id}/refunds`), {
      token: admin,
      body: { restock: true },
    });
    expect(manual.status).toBe(409);
    expect(await paymentOf(t, admin, c.id)).toEqual(
      expect.objectContaining({ status: 'SUCCEEDED', refundedAmount: 0 }),
    );
    expect(await orderStatus(t, buyer.accessToken, order3.id)).toBe('PAID');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 7, reserved: 0 }));

    // A late capture E the PSP did take, for an order F paid, whose automatic refund the PSP
    // refuses (e.g. a disputed charge): E stays SUCCEEDED. An admin's full refund of E later
    // returns E's money only: the order paid by F stays PAID and nothing is restocked.
    const order4 = await placeOrder(t, buyer.accessToken, sku, 1);
    const e = await openPayment(t, buyer.accessToken, order4.id);
    await deliver(t, eventFor(e, 'payment.failed'));
    const f = await openPayment(t, buyer.accessToken, order4.id);
    await pspCaptures(t, e.id);
    await pspCaptures(t, f.id);
    expect((await deliver(t, eventFor(f))).body.outcome).toBe('applied');
    await t.app.get(SandboxPsp).injectFault('refund-declined', 1);
    expect((await deliver(t, eventFor(e))).body.outcome).toBe('auto_refund');
    expect(await paymentOf(t, admin, e.id)).toEqual(
      expect.objectContaining({ status: 'SUCCEEDED', refundedAmount: 0 }),
    );
    const autoRefunds = await http('GET', t.api(`/payments/${e.id}/refunds`), { token: admin });
    expect(autoRefunds.body.items).toEqual([expect.objectContaining({ status: 'FAILED' })]);
    const byAdmin = await http('POST', t.api(`/payments/${e.id}/refunds`), {
      token: admin,
      body: { restock: true },
    });
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.status).toBe('SUCCEEDED');
    expect(await paymentOf(t, admin, e.id)).toEqual(
      expect.objectContaining({ status: 'REFUNDED', refundedAmount: e.amount }),
    );
    expect((await pspBooks(t, e.id)).refunded).toBe(String(e.amount));
    expect(await orderStatus(t, buyer.accessToken, order4.id)).toBe('PAID');
    expect((await paymentOf(t, buyer.accessToken, f.id)).status).toBe('SUCCEEDED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 6, reserved: 0 }));
  });

  it('an order that can no longer be paid takes no payment: open ones are cancelled at the PSP, confirm and create answer 409', async () => {
    const sku = await createSku(t, admin, 5);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    const cancel = await http('POST', t.api(`/orders/${order.id}/cancel`), { token: buyer.accessToken });
    expect(cancel.status).toBe(200);
    // The order.cancelled event (outbox) cancels the open payment at the PSP and here.
    await eventually(
      async () => (await paymentOf(t, buyer.accessToken, payment.id)).status === 'CANCELLED',
      15000,
    );
    expect((await pspBooks(t, payment.id)).status).toBe('canceled');
    const confirm = await http('POST', t.api(`/payments/${payment.id}/confirm`), {
      token: buyer.accessToken,
      body: { card: CARDS.success },
    });
    expect(confirm.status).toBe(409);
    expect(confirm.body.code).toBe('PAYMENT_NOT_PENDING');
    const again = await http('POST', t.api('/payments'), {
      token: buyer.accessToken,
      body: { orderId: order.id },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('ORDER_NOT_PAYABLE');
  });

  it('a PSP outage when opening a payment answers 503; the next call opens the same payment at the PSP', async () => {
    const sku = await createSku(t, admin, 5);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    await t.app.get(SandboxPsp).injectFault('create', 1);
    const down = await http('POST', t.api('/payments'), {
      token: buyer.accessToken,
      body: { orderId: order.id },
    });
    expect(down.status).toBe(503);
    expect(down.body.code).toBe('PROVIDER_UNAVAILABLE');
    const rows = (await db
      .primaryReader()
      .query('SELECT id, provider_ref FROM payments WHERE order_id = ?', [order.id])) as {
      id: string;
      provider_ref: string | null;
    }[];
    expect(rows).toEqual([{ id: expect.any(String), provider_ref: null }]);
    const up = await openPayment(t, buyer.accessToken, order.id);
    expect(up.id).toBe(rows[0].id);
    expect((await pspBooks(t, up.id)).status).toBe('requires_confirmation');
    expect(
      (await db.primaryReader().query('SELECT provider_ref FROM payments WHERE id = ?', [up.id]))[0]
        .provider_ref,
    ).toBe(`sbx_pi_${up.id}`);
  });

  it('refunds the PSP cannot take now stay PENDING and finish later exactly once; a refused refund releases the amount (409)', async () => {
    const sku = await createSku(t, admin, 10, 1000);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    await pspCaptures(t, payment.id);
    await deliver(t, eventFor(payment));

    await t.app.get(SandboxPsp).injectFault('refund', 1);
    const pending = await http('POST', t.api(`/payments/${payment.id}/refunds`), {
      token: admin,
      body: { amount: 500 },
    });
    expect(pending.status).toBe(201);
    expect(pending.body.status).toBe('PENDING');
    // The amount stays reserved meanwhile: no second refund can take it.
    expect((await paymentOf(t, admin, payment.id)).refundedAmount).toBe(500);
    // Reconciliation and the retry job may both run it: the PSP pays once (same idempotency key).
    await t.app.get(PaymentReconciliation).reconcile({ refundAfterMs: 0, paymentAfterMs: 3_600_000 });
    await eventually(async () => {
      const list = await http('GET', t.api(`/payments/${payment.id}/refunds`), { token: admin });
      return list.body.items[0]?.status === 'SUCCEEDED';
    }, 20000);
    await sleep(6000); // the retry job (queued with a 5 s delay) runs too, and finds nothing left to do
    expect((await pspBooks(t, payment.id)).refunded).toBe('500');
    expect(await paymentOf(t, admin, payment.id)).toEqual(
      expect.objectContaining({ status: 'PARTIALLY_REFUNDED', refundedAmount: 500 }),
    );

    // A payment the PSP never captured (a forged success): the PSP refuses, nothing stays reserved.
    const order2 = await placeOrder(t, buyer.accessToken, sku, 1);
    const forged = await openPayment(t, buyer.accessToken, order2.id);
    await deliver(t, eventFor(forged));
    const refused = await http('POST', t.api(`/payments/${forged.id}/refunds`), { token: admin, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('PAYMENT_NOT_REFUNDABLE');
    expect(await paymentOf(t, admin, forged.id)).toEqual(
      expect.objectContaining({ status: 'SUCCEEDED', refundedAmount: 0 }),
    );
    const list = await http('GET', t.api(`/payments/${forged.id}/refunds`), { token: admin });
    expect(list.body.items).toEqual([expect.objectContaining({ status: 'FAILED' })]);
    // Refunding a payment that was never captured here is refused before the PSP is asked.
    const order3 = await placeOrder(t, buyer.accessToken, sku, 1);
    const open = await openPayment(t, buyer.accessToken, order3.id);
    const early = await http('POST', t.api(`/payments/${open.id}/refunds`), { token: admin, body: {} });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('PAYMENT_NOT_REFUNDABLE');
  });

  it('a fulfilled order fully refunded becomes REFUNDED and is restocked on request', async () => {
    const sku = await createSku(t, admin, 10, 700);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    await pspCaptures(t, payment.id);
    await deliver(t, eventFor(payment));
    const fulfil = await http('POST', t.api(`/admin/orders/${order.id}/fulfill`), { token: admin });
    expect(fulfil.status).toBeLessThan(300);
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('FULFILLED');
    const refund = await http('POST', t.api(`/payments/${payment.id}/refunds`), {
      token: admin,
      body: { restock: true },
    });
    expect(refund.status).toBe(201);
    expect(refund.body.status).toBe('SUCCEEDED');
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('REFUNDED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 10, reserved: 0 }));
  });

  it('reconciliation applies what the PSP knows when every webhook was lost', async () => {
    const sku = await createSku(t, admin, 10, 800);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    // The PSP captured; its webhook never arrives (no delivery at all).
    await pspCaptures(t, payment.id);
    const payments = t.app.get(PaymentReconciliation);
    // Not old enough yet: left alone.
    await payments.reconcile({ paymentAfterMs: 3_600_000 });
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('PENDING');
    await sleep(20); // updated_at is in milliseconds
    await payments.reconcile({ paymentAfterMs: 0 });
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('SUCCEEDED');
    expect(await orderStatus(t, buyer.accessToken, order.id)).toBe('PAID');
    expect(await eventsOf(payment.id)).toEqual([
      { id: `reconcile:${payment.id}:succeeded`, type: 'payment.succeeded', outcome: 'applied' },
    ]);
    // The webhook turning up after all changes nothing.
    expect((await deliver(t, eventFor(payment))).body.outcome).toBe('ignored_state');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 9, reserved: 0 }));
    await mail.waitFor(isReceipt(buyer.email, order.id), 15000);
  });

  it('reconciliation sends a payment it cannot settle yet to the back of the line', async () => {
    const sku = await createSku(t, admin, 10, 800);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    // The client never confirms: the PSP still waits for a card, so there is nothing to apply.
    const changedAt = async (): Promise<number> =>
      new Date(
        (await db.primaryReader().query('SELECT updated_at FROM payments WHERE id = ?', [payment.id]))[0]
          .updated_at,
      ).getTime();
    const before = await changedAt();
    await sleep(20);
    await t.app.get(PaymentReconciliation).reconcile({ paymentAfterMs: 0 });
    expect((await paymentOf(t, buyer.accessToken, payment.id)).status).toBe('PENDING');
    // Its age restarts: the next runs take the rows that waited longer first.
    expect(await changedAt()).toBeGreaterThan(before);
    expect(await eventsOf(payment.id)).toEqual([]);
  });

  it('records an event for an unknown payment and a signed event larger than 64 KiB without failing', async () => {
    const unknown = await deliver(t, {
      id: `evt_test_unknown_${Date.now()}`,
      type: 'payment.succeeded',
      data: { paymentId: '00000000-0000-7000-8000-000000000000', orderId: 'x', amount: 1, currency: 'EUR' },
    });
    expect(unknown.status).toBe(200);
    expect(unknown.body.outcome).toBe('unknown_payment');

    const sku = await createSku(t, admin, 3);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const payment = await openPayment(t, buyer.accessToken, order.id);
    await pspCaptures(t, payment.id);
    const big = { ...eventFor(payment), metadata: { note: 'x'.repeat(100_000) } };
    const res = await deliver(t, big);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('applied');
    const [row] = (await db
      .primaryReader()
      .query('SELECT LENGTH(payload) AS n FROM payment_events WHERE id = ?', [big.id])) as { n: number }[];
    expect(Number(row.n)).toBeGreaterThan(100_000);
  });
});

describe('payments: a success arriving after its order expired', () => {
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
    // The card is charged just before the window closes; the webhook is late.
    await pspCaptures(t, payment.id);
    await waitForStatus(t, buyer.accessToken, order.id, 'EXPIRED');
    expect(await stock(t, admin, sku)).toEqual(expect.objectContaining({ onHand: 10, reserved: 0 }));
    // The expiry tried to cancel the payment at the PSP, which had captured it already.
    await sleep(500);
    expect((await pspBooks(t, payment.id)).status).toBe('succeeded');

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
    expect((await pspBooks(t, payment.id)).refunded).toBe(String(payment.amount));
  });
});

describe('payments: the webhook racing the expiry of its order', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp({});
    admin = await adminToken(t);
  });
  afterAll(() => t?.close());

  it('ends every order either PAID (payment SUCCEEDED) or EXPIRED (payment REFUNDED), never both, never losing stock', async () => {
    const buyer = await registerUser(t);
    const sku = await createSku(t, admin, 60);
    const orders = t.app.get(OrdersService);
    const n = 12;
    const cases = [];
    for (let i = 0; i < n; i++) {
      const order = await placeOrder(t, buyer.accessToken, sku, 2);
      const payment = await openPayment(t, buyer.accessToken, order.id);
      await pspCaptures(t, payment.id);
      cases.push({ order, payment });
    }
    // The expiry (the call its job makes) and the webhook, started with offsets spread from
    // -500 ms (expiry first) to +500 ms (webhook first): the first case surely expires before its
    // webhook, the last is surely paid first, the ones near the middle race on the order row.
    await Promise.all(
      cases.map(async ({ order, payment }, i) => {
        const offset = -500 + Math.round((1000 * i) / (n - 1));
        const expire = async () => {
          if (offset < 0) await sleep(0);
          else await sleep(offset);
          return orders.expire(order.id);
        };
        const webhook = async () => {
          await sleep(Math.max(0, -offset));
          const res = await deliver(t, eventFor(payment));
          expect(res.status).toBe(200);
          return res.body.outcome as string;
        };
        await Promise.all([expire(), webhook()]);
      }),
    );

    const outcomes: string[] = [];
    for (const { order, payment } of cases) {
      const status = await orderStatus(t, buyer.accessToken, order.id);
      const p = await paymentOf(t, buyer.accessToken, payment.id);
      outcomes.push(status);
      if (status === 'PAID') {
        expect(p).toEqual(expect.objectContaining({ status: 'SUCCEEDED', refundedAmount: 0 }));
      } else {
        expect(status).toBe('EXPIRED');
        expect(p).toEqual(expect.objectContaining({ status: 'REFUNDED', refundedAmount: p.amount }));
        const refunds = await http('GET', t.api(`/payments/${payment.id}/refunds`), { token: admin });
        expect(refunds.body.items).toEqual([
          expect.objectContaining({ status: 'SUCCEEDED', reason: 'order_not_payable', amount: p.amount }),
        ]);
        expect((await pspBooks(t, payment.id)).refunded).toBe(String(p.amount));
      }
    }
    expect(outcomes[0]).toBe('EXPIRED');
    expect(outcomes[n - 1]).toBe('PAID');
    const paid = outcomes.filter((o) => o === 'PAID').length;
    console.log(
      `race webhook vs expiry (offsets -500..+500 ms, ${n} orders): ${paid} PAID, ${n - paid} EXPIRED and ` +
        `refunded once; by offset ${outcomes.map((o) => o[0]).join('')}`,
    );
    expect(await stock(t, admin, sku)).toEqual(
      expect.objectContaining({ onHand: 60 - 2 * paid, reserved: 0 }),
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
        fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-signature': String(req.headers['x-signature']) },
          body: Buffer.concat(chunks),
        })
          .then(async (r) =>
            res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
          )
          // The shop unreachable: the delivery fails (the PSP retries), not an unhandled rejection.
          .catch(() => res.destroy());
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
