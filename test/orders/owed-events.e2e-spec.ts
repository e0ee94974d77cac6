import { getQueueToken } from '@nestjs/bull';
import type { Job, JobOptions, Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { MailCatcher } from '../../scripts/infra/mail-catcher';
import { newId } from '../../src/common/ids';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { QUEUES, queueJobOptions } from '../../src/infra/queue/queues';
import { ORDER_EVENTS, OrderEventsBus } from '../../src/orders';
import { OutboxHousekeeping } from '../../src/orders/testing';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { parseProm } from '../observability/prom-text';
import { createProduct, placeOrder, uniqueSku } from './builders';

/**
 * Decision 0020 with real Redis, MySQL and SMTP: an outbox event stays owed until its handlers
 * succeeded (a job Redis lost is published again); an owed job that spent its attempts becomes a
 * dead letter — counted, kept — and is re-driven once its dependency is back, with no second
 * effect; handled events and old dead letters are purged by the retention job.
 */
describe('owed events and dead letters', () => {
  let smtp: MailCatcher;
  let smtpPort: number;
  let t: TestApp;
  let db: DbRouter;
  let user: RegisteredUser;
  let sku: string;
  const queue = (name: string) => t.app.get<Queue>(getQueueToken(name), { strict: false });
  const metric = async (name: string, labels: Record<string, string>) =>
    parseProm((await http('GET', `${t.url}/metrics`)).body as string)
      .find(name, labels)
      .reduce((sum, x) => sum + x.value, 0);

  beforeAll(async () => {
    smtp = new MailCatcher({ smtpPort: 0 });
    await smtp.start();
    smtpPort = smtp.smtpPort;
    t = await startApp({
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      QUEUE_RETRY_MAX_DELAY_MS: '1000',
      QUEUE_REDRIVE_INTERVAL_MS: '2000',
    });
    db = t.app.get(DbRouter);
    user = await registerUser(t);
    sku = uniqueSku('OWED');
    await createProduct(t, await adminToken(t), [{ sku, price: 700, stockOnHand: 100 }]);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
  });

  it('an event whose job Redis lost while its handler was failing is published again and handled once', async () => {
    let failing = true;
    const succeeded: string[] = [];
    let target = '';
    t.app.get(OrderEventsBus).on(ORDER_EVENTS.created, (e) => {
      if (e.orderId !== target) return;
      if (failing) throw new Error('a dependency of this handler is down');
      succeeded.push(e.eventId);
    });
    const order = await placeOrder(t, user.accessToken, [{ sku, quantity: 1 }]);
    expect(order.status).toBe(201);
    target = order.body.id;
    const [row] = await db.primaryReader().query('SELECT id FROM outbox WHERE aggregate_id = ?', [target]);
    const outbox = queue(QUEUES.outbox);
    // Its job fails at least once (the handler throws), then Redis "loses" it.
    const job = await eventually(async () => {
      const j = (await outbox.getJob(row.id)) as Job | null;
      return j && j.attemptsMade >= 1 ? j : undefined;
    }, 15_000);
    await job.remove();
    expect(await outbox.getJob(row.id)).toBeNull();
    const [owed] = await db.primaryReader().query('SELECT handled_at FROM outbox WHERE id = ?', [row.id]);
    expect(owed.handled_at).toBeNull();

    failing = false;
    // The relay finds the owed row without a job and publishes it again; the handler then succeeds.
    await eventually(async () => {
      const [r] = await db.primaryReader().query('SELECT handled_at FROM outbox WHERE id = ?', [row.id]);
      return r.handled_at !== null;
    }, 20_000);
    expect(succeeded).toEqual([row.id]);
    // The confirmation mail (another handler of the same event) went out once, re-run or not.
    await smtp.waitFor((m) => m.subject === `We received your order ${target}`, 15_000);
    expect(smtp.messages.filter((m) => m.subject === `We received your order ${target}`)).toHaveLength(1);
  });

  it('a mail whose attempts ran out while SMTP was down is a dead letter (counted, kept), re-driven once SMTP is back, and sent once', async () => {
    const email = queue(QUEUES.email);
    const deadBefore = await metric('shop_queue_dead_letters_total', { queue: QUEUES.email });
    const redrivenBefore = await metric('shop_queue_dead_letters_redriven_total', { queue: QUEUES.email });
    await smtp.stop();
    const dedupeKey = `low-stock:DEAD-LETTER-${randomUUID()}`;
    // attemptsMade at each failure of this job, as the worker saw it. The re-drive (every 2 s) may
    // already have tried it once more, SMTP still down, by the time the test reads the job.
    const failures: number[] = [];
    email.on('failed', (job: Job) => {
      if (job.id === dedupeKey) failures.push(job.attemptsMade);
    });
    // The queue's own policy with 2 attempts, so it runs out in seconds rather than minutes.
    await email.add(
      {
        template: 'low-stock',
        to: 'ops@shop.test',
        data: { sku: 'DL-1', available: 1, threshold: 5 },
        dedupeKey,
      },
      { ...queueJobOptions(QUEUES.email), jobId: dedupeKey, attempts: 2 },
    );
    await eventually(async () => (await (await email.getJob(dedupeKey))?.getState()) === 'failed', 20_000);
    const dead = (await email.getJob(dedupeKey)) as Job;
    // Its 2 attempts ran out: a retry after the first failure, none after the second.
    expect(failures.slice(0, 2)).toEqual([1, 2]);
    expect(dead.failedReason).toMatch(/ECONNREFUSED|connect/i);
    // Counted once each time it became a dead letter (again, if a re-drive ran while SMTP was down).
    const deadLettered = failures.filter((n) => n >= 2).length;
    expect(await metric('shop_queue_dead_letters_total', { queue: QUEUES.email })).toBe(
      deadBefore + deadLettered,
    );

    // SMTP comes back on the same port: the next re-drive delivers it, once.
    smtp = new MailCatcher({ smtpPort });
    await smtp.start();
    const mail = await smtp.waitFor((m) => m.subject.includes('DL-1'), 20_000);
    expect(mail.to).toContain('ops@shop.test');
    await eventually(async () => (await (await email.getJob(dedupeKey))?.getState()) === 'completed', 10_000);
    expect(await metric('shop_queue_dead_letters_redriven_total', { queue: QUEUES.email })).toBeGreaterThan(
      redrivenBefore,
    );
    // Another re-drive would find nothing: the failed set is empty, and the mail is not sent again.
    await new Promise((r) => setTimeout(r, 2500));
    expect(smtp.messages.filter((m) => m.subject.includes('DL-1'))).toHaveLength(1);
    expect(await email.getFailedCount()).toBe(0);
  });

  it('a dead letter older than DEAD_LETTER_RETENTION_HOURS is given up: removed and counted', async () => {
    const email = queue(QUEUES.email);
    const givenUpBefore = await metric('shop_queue_dead_letters_given_up_total', { queue: QUEUES.email });
    const dedupeKey = `welcome:OLD-${randomUUID()}`;
    // Created 31 days ago (the default retention is 30 days), and failing: an invalid recipient.
    await email.add(
      { template: 'welcome', to: 'not an address', data: { name: 'x', email: 'x' }, dedupeKey },
      // `timestamp` (Bull's creation time) is a job option Bull's typings omit.
      {
        ...queueJobOptions(QUEUES.email),
        jobId: dedupeKey,
        attempts: 1,
        timestamp: Date.now() - 31 * 24 * 3600_000,
      } as JobOptions,
    );
    await eventually(async () => (await email.getJob(dedupeKey)) === null, 20_000);
    expect(await metric('shop_queue_dead_letters_given_up_total', { queue: QUEUES.email })).toBe(
      givenUpBefore + 1,
    );
  });

  it('retention: handled events past OUTBOX_RETENTION_HOURS are deleted; owed ones past the dead-letter retention are given up; recent ones stay', async () => {
    const rows = {
      oldHandled: newId(Date.now() - 10 * 86_400_000),
      recentHandled: newId(),
      oldOwed: newId(Date.now() - 40 * 86_400_000),
      recentOwed: newId(),
    };
    const insert = (id: string, createdDaysAgo: number, handledDaysAgo: number | null) =>
      db.execute(
        `INSERT INTO outbox (id, aggregate_id, type, payload, created_at, published_at, handled_at)
         VALUES (?, ?, 'order.created', '{}', NOW(3) - INTERVAL ? DAY, NOW(3) - INTERVAL ? DAY, ${
           handledDaysAgo === null ? 'NULL' : 'NOW(3) - INTERVAL ? DAY'
         })`,
        [
          id,
          randomUUID(),
          createdDaysAgo,
          createdDaysAgo,
          ...(handledDaysAgo === null ? [] : [handledDaysAgo]),
        ],
      );
    await insert(rows.oldHandled, 10, 8);
    await insert(rows.recentHandled, 1, 1);
    await insert(rows.oldOwed, 40, null);
    // Owed and recent: its job is "lost" too, but it is not the purge's to drop.
    await insert(rows.recentOwed, 0, null);
    const purged = await t.app.get(OutboxHousekeeping).purge();
    expect(purged.handled).toBeGreaterThanOrEqual(1);
    expect(purged.givenUp).toBeGreaterThanOrEqual(1);
    const left = (
      (await db.primaryReader().query('SELECT id FROM outbox WHERE id IN (?)', [Object.values(rows)])) as {
        id: string;
      }[]
    ).map((r) => r.id);
    expect(left.sort()).toEqual([rows.recentHandled, rows.recentOwed].sort());
    expect(
      await metric('shop_queue_dead_letters_given_up_total', { queue: QUEUES.outbox }),
    ).toBeGreaterThanOrEqual(1);
    await db.execute('DELETE FROM outbox WHERE id IN (?)', [[rows.recentHandled, rows.recentOwed]]);
  });
});
