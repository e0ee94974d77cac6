import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { QUEUES } from '../../src/infra/queue/queues';
import { RedisService } from '../../src/infra/redis/redis.service';
import { FaultProxy } from '../support/fault-proxy';
import { adminToken, registerUser, uniqueEmail } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';

const UA = 'audit-e2e/1.0 (jest)';

describe('users: login audit trail on the audit queue', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t);
  });
  afterAll(() => t.close());

  const audits = (query: string) => http('GET', t.api(`/admin/login-audits?${query}`), { token: admin });
  const waitForAudits = (query: string, n: number) =>
    eventually(async () => {
      const r = await audits(query);
      return r.status === 200 && r.body.items.length >= n ? r.body : undefined;
    });

  it('a wrong password is 401 and leaves a failure row (wrong_password, with the user id)', async () => {
    const u = await registerUser(t);
    const res = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: 'wrong-password' },
      headers: { 'user-agent': UA },
    });
    expect(res.status).toBe(401);
    const page = await waitForAudits(`email=${encodeURIComponent(u.email)}`, 1);
    expect(page.items).toEqual([
      expect.objectContaining({
        userId: u.user.id,
        email: u.email,
        outcome: 'failure',
        reason: 'wrong_password',
        ip: '127.0.0.1',
        userAgent: UA,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    ]);
  });

  it('an unknown email leaves a failure row with reason unknown_email and no user id', async () => {
    const email = uniqueEmail('nobody');
    expect(
      (await http('POST', t.api('/auth/login'), { body: { email, password: 'whatever-pw' } })).status,
    ).toBe(401);
    const page = await waitForAudits(`email=${encodeURIComponent(email)}`, 1);
    expect(page.items[0]).toMatchObject({ userId: null, email, outcome: 'failure', reason: 'unknown_email' });
  });

  it('a successful login leaves a success row with the IP and user agent; logout is recorded too', async () => {
    const u = await registerUser(t);
    const res = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: u.password },
      headers: { 'user-agent': UA },
    });
    expect(res.status).toBe(200);
    const page = await waitForAudits(`userId=${u.user.id}`, 1);
    expect(page.items[0]).toMatchObject({
      userId: u.user.id,
      email: u.email,
      outcome: 'success',
      reason: null,
      ip: '127.0.0.1',
      userAgent: UA,
    });
    await http('POST', t.api('/auth/logout'), { token: res.body.accessToken, headers: { 'user-agent': UA } });
    const after = await waitForAudits(`userId=${u.user.id}`, 2);
    expect(after.items[0]).toMatchObject({
      event: 'logout',
      outcome: 'success',
      reason: 'logout',
      userId: u.user.id,
    });
  });

  it('pages newest first with a keyset cursor, filtered by email', async () => {
    const u = await registerUser(t);
    for (let i = 0; i < 5; i++)
      await http('POST', t.api('/auth/login'), { body: { email: u.email, password: `wrong-${i}-pw` } });
    await waitForAudits(`email=${encodeURIComponent(u.email)}`, 5);
    const seen: any[] = [];
    let cursor: string | null = '';
    let pages = 0;
    do {
      const r = await audits(
        `email=${encodeURIComponent(u.email)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.status).toBe(200);
      seen.push(...r.body.items);
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((i) => i.id)).size).toBe(5);
    const keys = seen.map((i) => `${i.createdAt}|${i.id}`);
    expect([...keys].sort().reverse()).toEqual(keys);
    expect((await audits('cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
  });

  it('GET /users/me/logins lists only the caller’s own logins', async () => {
    const a = await registerUser(t);
    const b = await registerUser(t);
    await http('POST', t.api('/auth/login'), { body: { email: a.email, password: a.password } });
    await http('POST', t.api('/auth/login'), { body: { email: b.email, password: b.password } });
    const mine = await eventually(async () => {
      const r = await http('GET', t.api('/users/me/logins'), { token: a.accessToken });
      return r.body.items?.length >= 1 ? r : undefined;
    });
    expect(mine.status).toBe(200);
    expect(mine.body.items.every((i: any) => i.userId === a.user.id)).toBe(true);
  });

  it('a customer on the admin listing is 403 FORBIDDEN, without a token 401', async () => {
    const u = await registerUser(t);
    const res = await http('GET', t.api('/admin/login-audits'), { token: u.accessToken });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
    expect((await http('GET', t.api('/admin/login-audits'))).status).toBe(401);
  });
});

describe('users: a login does not depend on the audit queue being reachable', () => {
  let t: TestApp;
  let proxy: FaultProxy;
  beforeAll(async () => {
    const redis = new URL(process.env.REDIS_URL!);
    proxy = new FaultProxy(redis.hostname, Number(redis.port));
    await proxy.start();
    redis.port = String(proxy.port);
    t = await startApp({ REDIS_URL: redis.toString() });
  });
  afterAll(async () => {
    // Let every connection come back before closing, so nothing is left reconnecting.
    await proxy.set('pass');
    const redis = t.app.get(RedisService);
    await eventually(async () => redis.isReady() && (await redis.client.ping()) === 'PONG', 15000);
    await t.app.get<Queue>(getQueueToken(QUEUES.audit)).isReady();
    await t.close();
    await proxy.stop();
  });

  const auditRows = (userId: string) =>
    t.app
      .get(DbRouter)
      .primaryReader()
      .query(
        'SELECT outcome, reason, ip, user_agent AS userAgent FROM login_audits WHERE user_id = ? ORDER BY created_at, id',
        [userId],
      ) as Promise<{ outcome: string; reason: string | null; ip: string; userAgent: string | null }[]>;

  it('logs in (200) while Redis is unreachable, and the audit row is written directly instead of queued', async () => {
    const u = await registerUser(t);
    await proxy.set('refuse');
    const res = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: u.password },
      headers: { 'user-agent': UA },
    });
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toEqual(expect.any(String));
    // Written on the request path, so it is there as soon as the answer is.
    expect(await auditRows(u.user.id)).toEqual([
      { outcome: 'success', reason: null, ip: '127.0.0.1', userAgent: UA },
    ]);
  });

  it('while Redis is unreachable registration still answers 201, and the failed-login brake holds in this process: the 6th attempt is 429 even with the right password, every attempt audited', async () => {
    await proxy.set('refuse');
    const u = await registerUser(t);
    for (let i = 0; i < 5; i++)
      expect(
        (await http('POST', t.api('/auth/login'), { body: { email: u.email, password: `wrong-${i}-pw` } }))
          .status,
      ).toBe(401);
    const sixth = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: u.password },
    });
    expect(sixth.status).toBe(429);
    expect(sixth.body.code).toBe('RATE_LIMITED');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await auditRows(u.user.id)).map((r) => r.reason)).toEqual([
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'rate_limited',
    ]);
  });
});
