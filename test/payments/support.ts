import { randomBytes, randomUUID } from 'node:crypto';
import { RedisService } from '../../src/infra/redis/redis.service';
import { signWebhook } from '../../src/payments';
import { SandboxLedger } from '../../src/payments/testing';
import { TestApp, eventually, http } from '../support/test-app';

export const CARDS = { success: '4242424242424242', declined: '4000000000000002' };

/** Creates a product with one SKU holding `stock` units through the admin API. */
export async function createSku(t: TestApp, admin: string, stock: number, price = 1999): Promise<string> {
  const sku = `PAY-${randomBytes(5).toString('hex').toUpperCase()}`;
  const res = await http('POST', t.api('/products'), {
    token: admin,
    body: { name: `Payment test ${sku}`, variants: [{ sku, price, currency: 'EUR', stockOnHand: stock }] },
  });
  if (res.status !== 201) throw new Error(`create product: ${res.status} ${JSON.stringify(res.body)}`);
  return sku;
}

export async function placeOrder(t: TestApp, token: string, sku: string, quantity: number) {
  const res = await http('POST', t.api('/orders'), { token, body: { items: [{ sku, quantity }] } });
  if (res.status !== 201) throw new Error(`create order: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; status: string; total: { amount: number; currency: string } };
}

export async function openPayment(t: TestApp, token: string, orderId: string) {
  const res = await http('POST', t.api('/payments'), { token, body: { orderId } });
  if (res.status !== 201) throw new Error(`create payment: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; orderId: string; status: string; amount: number; currency: string };
}

export const stock = async (t: TestApp, admin: string, sku: string) =>
  (await http('GET', t.api(`/inventory/${sku}`), { token: admin })).body as {
    onHand: number;
    reserved: number;
    available: number;
  };

export const orderStatus = async (t: TestApp, token: string, orderId: string): Promise<string> =>
  (await http('GET', t.api(`/orders/${orderId}`), { token })).body.status;

export const paymentOf = async (t: TestApp, token: string, id: string) =>
  (await http('GET', t.api(`/payments/${id}`), { token })).body as {
    status: string;
    amount: number;
    refundedAmount: number;
  };

export function eventFor(
  payment: { id: string; orderId: string; amount: number; currency: string },
  type: 'payment.succeeded' | 'payment.failed' = 'payment.succeeded',
) {
  return {
    id: `evt_test_${randomUUID()}`,
    type,
    data: {
      paymentId: payment.id,
      orderId: payment.orderId,
      amount: payment.amount,
      currency: payment.currency,
    },
  };
}

/** Posts an event to the webhook as the PSP would: the exact body string, signed. */
export function deliver(
  t: TestApp,
  event: unknown,
  opts: { secret?: string; timestamp?: number; body?: string; signature?: string | null } = {},
) {
  const body = opts.body ?? JSON.stringify(event);
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const signature =
    opts.signature === null
      ? undefined
      : (opts.signature ??
        signWebhook(opts.secret ?? t.config.payments.webhookSecret, JSON.stringify(event), ts));
  return http('POST', t.api('/payments/webhooks/sandbox'), {
    raw: body,
    headers: signature ? { 'x-signature': signature } : {},
  });
}

export const waitForStatus = (t: TestApp, token: string, orderId: string, status: string, ms = 15000) =>
  eventually(async () => (await orderStatus(t, token, orderId)) === status, ms);

/**
 * The PSP's side of a capture, for tests that then deliver the webhook themselves: the sandbox
 * records the card as charged (so refunds of it succeed there), and no webhook is sent by it.
 */
export async function pspCaptures(t: TestApp, paymentId: string): Promise<void> {
  const r = await t.app.get(SandboxLedger).confirm(paymentId, true);
  if (r !== 'ok') throw new Error(`sandbox capture of ${paymentId}: ${r}`);
}

export const pspBooks = (t: TestApp, paymentId: string) =>
  t.app.get(RedisService).client.hgetall(t.app.get(RedisService).key('sandbox', 'pi', paymentId));
