import { getQueueToken } from '@nestjs/bull';
import Bull, { Queue } from 'bull';
import { MailCatcher } from '../../scripts/infra/mail-catcher';
import { QUEUES } from '../../src/infra/queue/queues';
import { RedisService } from '../../src/infra/redis/redis.service';
import { createConnection } from 'mysql2/promise';
import { MailService } from '../../src/notifications';
import { sentMailKey } from '../../src/notifications/testing';
import { uniqueEmail } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { TestApp, eventually, startApp } from '../support/test-app';

/**
 * Shutdown with a mail mid-send: the app is closed the way SIGTERM closes it (Nest's shutdown
 * hooks, `enableShutdownHooks`) while the SMTP conversation of a job is under way (slowed down
 * by a proxy). The job must finish with Redis and SMTP still open: one delivery, the job
 * completed on its first attempt with no failure recorded, and its "sent" record in MySQL (so
 * no later attempt or other worker sends it again).
 */
describe('fault: shutdown while a mail is being sent', () => {
  let smtp: MailCatcher;
  let proxy: FaultProxy;
  let t: TestApp;
  let inspect: Queue;

  beforeAll(async () => {
    smtp = new MailCatcher({ smtpPort: 0 });
    await smtp.start();
    proxy = new FaultProxy('127.0.0.1', smtp.smtpPort);
    await proxy.start();
    t = await startApp({
      SMTP_URL: `smtp://127.0.0.1:${proxy.port}`,
      MAIL_FROM: 'Shop <no-reply@shop.test>',
    });
    // Read the queue from outside the app, as another instance would, after the app is gone.
    inspect = new Bull(QUEUES.email, {
      redis: RedisService.connectionOptions(t.config.redis.url),
      prefix: `${t.config.redis.prefix}:bull`,
    });
  });
  afterAll(async () => {
    await inspect.close();
    await proxy.stop();
    await smtp.stop();
  });

  it('a mail being sent at shutdown is delivered exactly once, its job completed with no failed attempt and its sent record kept', async () => {
    const to = uniqueEmail('shutdown');
    const dedupeKey = `welcome:shutdown-${to}`;
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.email));
    await proxy.set('latency', 300);
    await t.app
      .get(MailService)
      .send({ template: 'welcome', to, data: { name: 'Linus', email: to }, dedupeKey });
    await eventually(async () => (await (await queue.getJob(dedupeKey))?.getState()) === 'active', 15000, 20);
    expect(smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(0);

    await t.close();

    const job = await inspect.getJob(dedupeKey);
    expect({
      state: await job?.getState(),
      attemptsMade: job?.attemptsMade,
      failedReason: job?.failedReason,
      stacktrace: job?.stacktrace,
    }).toEqual({ state: 'completed', attemptsMade: 0, failedReason: undefined, stacktrace: [] });
    const { host, port, user, password, database } = t.config.db.primary;
    const db = await createConnection({ host, port, user, password, database });
    try {
      const [rows] = await db.query('SELECT dedupe_key FROM sent_mail WHERE key_hash = ?', [
        sentMailKey(dedupeKey),
      ]);
      expect(rows).toEqual([{ dedupe_key: dedupeKey }]);
    } finally {
      await db.end();
    }
    const got = await smtp.waitFor((m) => m.to.includes(to), 10000);
    expect(got.subject).toBe('Welcome to nest-commerce, Linus');
    expect(smtp.messages.filter((m) => m.to.includes(to))).toHaveLength(1);
  });
});
