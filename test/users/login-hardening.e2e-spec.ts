import { randomBytes } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { adminToken, registerUser, uniqueEmail } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';

/** A fresh client address per test (these apps trust X-Forwarded-For), so counts start at zero. */
const fakeIp = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;

const login = (t: TestApp, email: string, password: string, ip: string) =>
  http('POST', t.api('/auth/login'), { body: { email, password }, headers: { 'x-forwarded-for': ip } });

/** Login audit rows of one account, newest first (as the admin listing answers them). */
async function auditsOf(t: TestApp, admin: string, userId: string, atLeast: number): Promise<any[]> {
  return eventually(async () => {
    const r = await http('GET', t.api(`/admin/login-audits?userId=${userId}`), { token: admin });
    return r.status === 200 && r.body.items.length >= atLeast ? r.body.items : undefined;
  });
}

describe('users: the failed-login limit is keyed on the account, not on how its email is spelled', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  beforeAll(async () => {
    [a, b] = await Promise.all([startApp({ TRUST_PROXY: 'true' }), startApp({ TRUST_PROXY: 'true' })]);
    admin = await adminToken(a);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it('accented and full-width spellings the database treats as the same email share one budget: the 6th attempt is 429 even with the right password', async () => {
    const local = `ada${randomBytes(4).toString('hex')}`;
    const u = await registerUser(a, {
      email: `${local}@test.local`,
      headers: { 'x-forwarded-for': fakeIp() },
    });
    const fullWidth = (s: string) =>
      [...s].map((c) => (/[a-z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join('');
    const variants = [
      `á${local.slice(1)}@test.local`,
      `à${local.slice(1)}@test.local`,
      `${fullWidth(local)}@test.local`,
      `Â${local.slice(1)}@TEST.local`,
      `${fullWidth(local.toUpperCase())}@test.local`,
      `ä${local.slice(1)}@test.local`,
    ];
    const ip = fakeIp();
    for (const [i, email] of variants.slice(0, 5).entries())
      expect((await login(i % 2 ? a : b, email, `wrong-${i}-password`, ip)).status).toBe(401);
    const sixth = await login(a, variants[5], u.password, ip);
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({
      statusCode: 429,
      code: 'RATE_LIMITED',
      requestId: expect.any(String),
    });
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);

    // Every spelling reached the account (wrong_password with its id, not unknown_email), and the
    // refused attempt is on the account's trail too.
    const items = await auditsOf(a, admin, u.user.id, 6);
    expect(items.map((i) => i.reason).sort()).toEqual([
      'rate_limited',
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'wrong_password',
      'wrong_password',
    ]);
    expect(items.every((i) => i.userId === u.user.id)).toBe(true);
  });
});

describe('users: a per-IP cap on login attempts across all emails (Redis, across instances)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { TRUST_PROXY: 'true', LOGIN_IP_MAX_ATTEMPTS: '4' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it('after 4 failed logins for 4 different emails from one IP (over both instances) the next is 429, whatever the email; successes do not use up the budget; other IPs are unaffected', async () => {
    const [u, v] = [
      await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } }),
      await registerUser(b, { headers: { 'x-forwarded-for': fakeIp() } }),
    ];
    const ip = fakeIp();
    for (let i = 0; i < 5; i++)
      expect((await login(i % 2 ? a : b, u.email, u.password, ip)).status).toBe(200);
    for (let i = 0; i < 4; i++)
      expect((await login(i % 2 ? a : b, uniqueEmail('spray'), 'a-guessed-password', ip)).status).toBe(401);
    for (const t of [a, b]) {
      const res = await login(t, v.email, v.password, ip);
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('RATE_LIMITED');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect((await login(b, v.email, v.password, fakeIp())).status).toBe(200);
  });
});

describe('users: an account is locked after repeated wrong passwords from any address', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp({ TRUST_PROXY: 'true', LOGIN_LOCK_AFTER_FAILURES: '3', LOGIN_LOCK_SECONDS: '600' });
    admin = await adminToken(t);
  });
  afterAll(() => t.close());

  it('the 3rd wrong password (each from another IP) locks it: the right password is then 429 ACCOUNT_LOCKED, and the blocked attempt is on the account’s trail (admin ?userId= and GET /users/me/logins)', async () => {
    const u = await registerUser(t, { headers: { 'x-forwarded-for': fakeIp() } });
    for (let i = 0; i < 3; i++)
      expect((await login(t, u.email, `wrong-${i}-password`, fakeIp())).status).toBe(401);
    const res = await login(t, u.email, u.password, fakeIp());
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      statusCode: 429,
      code: 'ACCOUNT_LOCKED',
      message: expect.any(String),
      requestId: expect.any(String),
      details: { retryAfterSeconds: expect.any(Number) },
    });
    const retry = Number(res.headers.get('retry-after'));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(600);
    const [row] = await t.app
      .get(DbRouter)
      .primaryReader()
      .query('SELECT locked_until FROM users WHERE id = ?', [u.user.id]);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now());

    const items = await auditsOf(t, admin, u.user.id, 4);
    expect(items[0]).toMatchObject({ userId: u.user.id, outcome: 'failure', reason: 'locked' });
    const mine = await http('GET', t.api('/users/me/logins'), { token: u.accessToken });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((i: any) => i.reason)).toEqual([
      'locked',
      'wrong_password',
      'wrong_password',
      'wrong_password',
    ]);
  });

  it('a successful login before the threshold starts the count again; another account is not affected', async () => {
    const u = await registerUser(t, { headers: { 'x-forwarded-for': fakeIp() } });
    const other = await registerUser(t, { headers: { 'x-forwarded-for': fakeIp() } });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2; i++)
        expect((await login(t, u.email, 'wrong-password', fakeIp())).status).toBe(401);
      expect((await login(t, u.email, u.password, fakeIp())).status).toBe(200);
    }
    expect((await login(t, other.email, other.password, fakeIp())).status).toBe(200);
  });
});
