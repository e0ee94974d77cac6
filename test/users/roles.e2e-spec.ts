import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { MailCatcher } from '../../scripts/infra/mail-catcher';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { QUEUES } from '../../src/infra/queue/queues';
import { login, registerUser } from '../support/auth';
import { TestApp, eventually, startApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * APP_ROLE=api only produces jobs; APP_ROLE=worker consumes them. An api instance alone leaves
 * the welcome mail and the login audit waiting in their queues; a worker sharing its Redis then
 * delivers both.
 */
describe('queues by role: an api instance produces, a worker consumes', () => {
  let smtp: MailCatcher;
  let api: TestApp;
  let worker: TestApp | undefined;
  beforeAll(async () => {
    smtp = new MailCatcher({ smtpPort: 0 });
    await smtp.start();
    api = await startApp({ APP_ROLE: 'api', SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}` });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await smtp.stop();
  });

  it('leaves the welcome mail and the login audit waiting until a worker takes them', async () => {
    const user = await registerUser(api); // a welcome mail
    await login(api, user.email, user.password); // a login audit
    const email = api.app.get<Queue>(getQueueToken(QUEUES.email));
    const audit = api.app.get<Queue>(getQueueToken(QUEUES.audit));
    const welcome = await email.getJob(`welcome:${user.user.id}`);
    expect(welcome).not.toBeNull();
    await sleep(1000);
    expect(await welcome!.getState()).toBe('waiting');
    expect((await audit.getJobCounts()).waiting).toBeGreaterThan(0);
    expect(smtp.messages.filter((m) => m.to.includes(user.email))).toHaveLength(0);
    const db = api.app.get(DbRouter);
    const rows = () =>
      db.primaryReader().query('SELECT id FROM login_audits WHERE user_id = ?', [user.user.id]);
    expect(await rows()).toHaveLength(0);

    worker = await startApp({ APP_ROLE: 'worker', SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}` });
    await smtp.waitFor((m) => m.to.includes(user.email), 15000);
    await eventually(async () => (await rows()).length > 0, 15000);
    // The mail reaches the SMTP server before Bull records the job as completed (its state reads
    // 'stuck' in between, on a loaded machine for a noticeable moment).
    await eventually(
      async () => (await (await email.getJob(`welcome:${user.user.id}`))?.getState()) === 'completed',
      15000,
    );
  });
});
