import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import type { MailCatcher } from '../../scripts/infra/mail-catcher';
import { QUEUES } from '../../src/infra/queue/queues';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { RedisService } from '../../src/infra/redis/redis.service';
import { MailService } from '../../src/notifications';
import { MailProcessor, sentMailKey } from '../../src/notifications/testing';
import { registerUser, uniqueEmail } from '../support/auth';
import type { FaultProxy } from '../support/fault-proxy';
import { ProxiedSmtp, proxiedSmtp } from '../support/smtp-sink';
import { TestApp, eventually, startApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('notifications: mail over a real SMTP server, through the email queue', () => {
  let sink: ProxiedSmtp;
  let smtp: MailCatcher;
  let proxy: FaultProxy;
  let t: TestApp;
  let queue: Queue;
  const to = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

  beforeAll(async () => {
    // The app reaches SMTP through a proxy so a test can slow it down or take it away.
    sink = await proxiedSmtp();
    ({ smtp, proxy } = sink);
    t = await startApp({
      SMTP_URL: `smtp://127.0.0.1:${proxy.port}`,
      MAIL_FROM: 'Shop <no-reply@shop.test>',
    });
    queue = t.app.get<Queue>(getQueueToken(QUEUES.email));
  });
  afterAll(async () => {
    await proxy.set('pass');
    await t.close();
    await sink.stop();
  });

  it('register answers without waiting for SMTP, and the welcome mail (HTML + text) arrives', async () => {
    await proxy.set('latency', 1500);
    const started = Date.now();
    const u = await registerUser(t, { name: 'Grace' });
    const took = Date.now() - started;
    expect(took).toBeLessThan(1500);
    expect(to(u.email)).toHaveLength(0);
    const mail = await smtp.waitFor((m) => m.to.includes(u.email), 20000);
    await proxy.set('pass');
    expect(mail.subject).toBe('Welcome to nest-commerce, Grace');
    expect(mail.from).toBe('no-reply@shop.test');
    expect(mail.text).toContain(u.email);
    expect(mail.html).toContain('<h1>Welcome, Grace!</h1>');
    expect(mail.headers['x-mail-template']).toBe('welcome');
  });

  it('SMTP down at send time: the job retries with backoff and the mail is delivered exactly once when SMTP is back', async () => {
    await proxy.set('refuse');
    const u = await registerUser(t);
    const jobId = `welcome:${u.user.id}`;
    await eventually(async () => ((await queue.getJob(jobId))?.attemptsMade ?? 0) >= 1, 15000);
    expect(to(u.email)).toHaveLength(0);
    await proxy.set('pass');
    await smtp.waitFor((m) => m.to.includes(u.email), 30000);
    await eventually(async () => (await (await queue.getJob(jobId))?.getState()) === 'completed', 10000);
    await sleep(2500);
    expect(to(u.email)).toHaveLength(1);
  });

  it('a silent SMTP server (accepts, never answers): the attempt fails within the transport timeouts instead of hanging, and the mail is delivered once when it answers again', async () => {
    const email = uniqueEmail('silent');
    const dedupeKey = `payment-receipt:${email}`;
    await proxy.set('blackhole');
    try {
      const queuedAt = Date.now();
      await t.app.get(MailService).send({
        template: 'payment-receipt',
        to: email,
        data: { orderId: 'ord-s', paymentId: 'pay-s', amount: 1999, currency: 'EUR' },
        dedupeKey,
      });
      // A new connection waits for the greeting (5 s); one the pool kept open from the tests
      // above goes silent mid-conversation and times out (15 s without a byte).
      await eventually(async () => ((await queue.getJob(dedupeKey))?.attemptsMade ?? 0) >= 1, 25000, 100);
      expect(Date.now() - queuedAt).toBeLessThan(22000);
      expect((await queue.getJob(dedupeKey))?.failedReason).toMatch(/greeting|timeout/i);
    } finally {
      await proxy.set('pass');
    }
    const got = await smtp.waitFor((m) => m.to.includes(email), 30000);
    expect(got.subject).toBe('Payment received for order ord-s');
    await eventually(async () => (await (await queue.getJob(dedupeKey))?.getState()) === 'completed', 10000);
    expect(to(email)).toHaveLength(1);
  });

  it('one dedupeKey is one mail: sending twice, or again after the job was trimmed, sends nothing more', async () => {
    const mail = t.app.get(MailService);
    const email = uniqueEmail('receipt');
    const msg = {
      template: 'payment-receipt' as const,
      to: email,
      data: { orderId: 'ord-1', paymentId: 'pay-1', amount: 1999, currency: 'EUR' },
      dedupeKey: `payment-receipt:${email}`,
    };
    await Promise.all([mail.send(msg), mail.send(msg)]);
    const got = await smtp.waitFor((m) => m.to.includes(email), 15000);
    expect(got.subject).toBe('Payment received for order ord-1');
    expect(got.text).toContain('€19.99');
    await eventually(async () => (await (await queue.getJob(msg.dedupeKey))?.getState()) === 'completed');
    // The completed job is trimmed (as removeOnComplete eventually does); the sent record still holds.
    await (await queue.getJob(msg.dedupeKey))!.remove();
    await mail.send(msg);
    await eventually(async () => (await (await queue.getJob(msg.dedupeKey))?.getState()) === 'completed');
    await sleep(500);
    expect(to(email)).toHaveLength(1);
  });

  it('a sent mail is remembered in MySQL (sent_mail), not in Redis, for DEAD_LETTER_RETENTION_HOURS, then purged', async () => {
    const mail = t.app.get(MailService);
    const db = t.app.get(DbRouter);
    const redis = t.app.get(RedisService);
    const email = uniqueEmail('kept');
    const msg = (n: number) => ({
      template: 'payment-receipt' as const,
      to: email,
      data: { orderId: `ord-k${n}`, paymentId: `pay-k${n}`, amount: 500, currency: 'EUR' },
      dedupeKey: `payment-receipt:${email}:${n}`,
    });
    await Promise.all([mail.send(msg(1)), mail.send(msg(2))]);
    await eventually(async () => to(email).length === 2, 15000);
    const rows = async () =>
      (await db
        .primaryReader()
        .query(
          'SELECT dedupe_key, template, message_id FROM sent_mail WHERE key_hash IN (?) ORDER BY dedupe_key',
          [[sentMailKey(msg(1).dedupeKey), sentMailKey(msg(2).dedupeKey)]],
        )) as { dedupe_key: string; template: string; message_id: string }[];
    await eventually(async () => (await rows()).length === 2, 10000);
    const kept = await rows();
    expect(kept.map((r) => [r.dedupe_key, r.template])).toEqual([
      [msg(1).dedupeKey, 'payment-receipt'],
      [msg(2).dedupeKey, 'payment-receipt'],
    ]);
    // The Message-ID the SMTP server got is the one recorded.
    const ids = to(email).map((m) => m.headers['message-id']);
    expect(kept.map((r) => r.message_id).sort()).toEqual([...ids].sort());
    // Nothing about sent mail is left in Redis.
    expect(await redis.client.keys(`${t.config.redis.prefix}:mail:*`)).toEqual([]);

    // One record is older than the retention: the purge deletes it and keeps the other.
    const retentionMs = t.config.queues.deadLetterRetentionMs;
    await db.execute('UPDATE sent_mail SET sent_at = NOW(3) - INTERVAL ? MICROSECOND WHERE key_hash = ?', [
      (retentionMs + 60_000) * 1000,
      sentMailKey(msg(1).dedupeKey),
    ]);
    expect(await t.app.get(MailProcessor).purge()).toBeGreaterThanOrEqual(1);
    expect((await rows()).map((r) => r.dedupe_key)).toEqual([msg(2).dedupeKey]);
    // The kept record still dedupes, once its job is trimmed too.
    await (await queue.getJob(msg(2).dedupeKey))!.remove();
    await mail.send(msg(2));
    await eventually(async () => (await (await queue.getJob(msg(2).dedupeKey))?.getState()) === 'completed');
    await sleep(300);
    expect(to(email)).toHaveLength(2);
  });

  it('renders every template (order confirmation with money per currency, low stock)', async () => {
    const mail = t.app.get(MailService);
    const email = uniqueEmail('order');
    await mail.send({
      template: 'order-confirmation',
      to: email,
      dedupeKey: `order-confirmation:${email}`,
      data: {
        name: 'Ada',
        orderId: 'ord-9',
        items: [{ sku: 'TEE-M', quantity: 2, lineTotal: 5000, currency: 'JPY' }],
        total: { amount: 5000, currency: 'JPY' },
      },
    });
    await mail.send({
      template: 'low-stock',
      to: email,
      dedupeKey: `low-stock:${email}`,
      data: { sku: 'TEE-M', available: 3, threshold: 5 },
    });
    await eventually(async () => to(email).length === 2, 15000);
    const order = to(email).find((m) => m.subject.includes('ord-9'))!;
    expect(order.text).toContain('TEE-M x 2');
    expect(order.text).toContain('¥5,000');
    expect(to(email).find((m) => m.subject === 'Low stock: TEE-M (3 left)')).toBeDefined();
  });
});
