import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { QUEUES } from '../../src/infra/queue/queues';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { parseProm } from '../observability/prom-text';
import { createProduct, placeOrder, uniqueSku } from './builders';

/**
 * Backpressure (issue 26) with real Redis and MySQL: once the mail queue holds QUEUE_BACKLOG_LIMIT
 * waiting jobs, the admin readiness view and /metrics say so, and the outbox relay stops feeding
 * Redis — a new order's event stays owed in MySQL, unpublished — until the backlog is below the
 * limit again; then the event is published and handled. Nothing is dropped.
 */
describe('queue backpressure: the outbox relay holds order events while a queue is at its limit', () => {
  const LIMIT = 5;
  let t: TestApp;
  let db: DbRouter;
  let user: RegisteredUser;
  let admin: string;
  let sku: string;
  const queue = (name: string) => t.app.get<Queue>(getQueueToken(name), { strict: false });

  beforeAll(async () => {
    t = await startApp({ QUEUE_BACKLOG_LIMIT: String(LIMIT) });
    db = t.app.get(DbRouter);
    user = await registerUser(t);
    admin = await adminToken(t);
    sku = uniqueSku('BACKPRESSURE');
    await createProduct(t, admin, [{ sku, price: 700, stockOnHand: 100 }]);
  });
  afterAll(async () => {
    if (t)
      await queue(QUEUES.email)
        .resume(true)
        .catch(() => undefined);
    await t?.close();
  });

  const outboxRow = async (orderId: string) =>
    (
      await db
        .primaryReader()
        .query('SELECT published_at, handled_at FROM outbox WHERE aggregate_id = ?', [orderId])
    )[0] as { published_at: Date | null; handled_at: Date | null };

  it('holds while the mail queue is at the limit and publishes once it drained', async () => {
    const email = queue(QUEUES.email);
    // This process stops taking mail jobs; LIMIT of them wait in Redis.
    await email.pause(true);
    await eventually(async () => (await email.getWaitingCount()) === 0 || undefined, 15_000).catch(
      () => undefined,
    );
    const filler = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) =>
        email.add('backpressure-filler', { i }, { jobId: `bp-filler-${process.pid}-${Date.now()}-${i}` }),
      ),
    );

    const ready = await eventually(async () => {
      const r = await http('GET', `${t.url}/health/ready`, { token: admin });
      return r.body?.queues?.email?.backpressure === true ? r : undefined;
    }, 10_000);
    expect(ready.body.queues.email).toMatchObject({ limit: LIMIT, backpressure: true });
    const prom = parseProm((await http('GET', `${t.url}/metrics`)).body as string);
    expect(prom.find('shop_queue_backlog_limit', { queue: 'email' })[0]?.value).toBe(LIMIT);

    // Give the relay's memo (1 s) time to see the backlog, then order.
    await new Promise((r) => setTimeout(r, 1500));
    const order = await placeOrder(t, user.accessToken, [{ sku, quantity: 1 }]);
    expect(order.status).toBe(201);
    await new Promise((r) => setTimeout(r, 2000)); // ten relay polls
    const held = await outboxRow(order.body.id);
    expect(held.published_at).toBeNull(); // owed, in MySQL, not in Redis
    expect(held.handled_at).toBeNull();

    // The backlog drains (the fillers go): the relay publishes the event and it is handled.
    await Promise.all(filler.map((j) => j.remove()));
    await email.resume(true);
    const done = await eventually(async () => {
      const r = await outboxRow(order.body.id);
      return r.handled_at ? r : undefined;
    }, 20_000);
    expect(done.published_at).not.toBeNull();
    const after = await http('GET', `${t.url}/health/ready`, { token: admin });
    expect(after.body.queues.email.backpressure).toBe(false);
  });
});
