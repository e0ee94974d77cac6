import { randomBytes } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { registerUser, uniqueEmail } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';

/**
 * Issue 20, login brakes under concurrency: the account lock is reserved before the password is
 * checked (so parallel guesses from many addresses cannot outrun it), per-client limits group
 * IPv6 addresses by prefix, and argon2 runs with bounded concurrency. The apps trust
 * X-Forwarded-For, so every request may come from another address.
 */

/** A fresh IPv4 address per call (these apps trust X-Forwarded-For). */
const fakeIp = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;
/** A fresh IPv6 /48 per test run: counts start at zero. */
const v6 = () => `2001:db8:${randomBytes(2).toString('hex')}`;

const login = (t: TestApp, email: string, password: string, ip: string) =>
  http('POST', t.api('/auth/login'), { body: { email, password }, headers: { 'x-forwarded-for': ip } });

const tally = (statuses: { status: number; body: any }[]) =>
  statuses.reduce<Record<string, number>>((acc, r) => {
    const k = `${r.status} ${r.body?.code ?? ''}`.trim();
    acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});

describe('users: the account lock holds against concurrent guesses from many addresses (two instances)', () => {
  const THRESHOLD = 5;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = {
      TRUST_PROXY: 'true',
      LOGIN_LOCK_AFTER_FAILURES: String(THRESHOLD),
      LOGIN_LOCK_SECONDS: '600',
      // Every guess must reach the lock, not wait for (or be refused) a hashing slot.
      PASSWORD_HASH_MAX_WAIT_MS: '60000',
    };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it(`100 concurrent wrong passwords from 100 addresses: exactly ${THRESHOLD} are checked and recorded as wrong_password, the other 95 are refused ACCOUNT_LOCKED without a check; the row is locked and the right password is refused too`, async () => {
    const u = await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => login(i % 2 ? a : b, u.email, `wrong-guess-${i}`, fakeIp())),
    );
    const counts = tally(answers);
    console.log(`100 concurrent wrong logins, lock threshold ${THRESHOLD}: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ '401 INVALID_CREDENTIALS': THRESHOLD, '429 ACCOUNT_LOCKED': 100 - THRESHOLD });
    for (const r of answers.filter((x) => x.status === 429))
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);

    const db = a.app.get(DbRouter);
    const [row] = await db.primaryReader().query('SELECT locked_until FROM users WHERE id = ?', [u.user.id]);
    expect(new Date(row.locked_until).getTime()).toBeGreaterThan(Date.now());
    // The audit trail (queued, so awaited): 5 checked wrong passwords, 95 refused as locked.
    const reasons = await eventually(async () => {
      const rows: { reason: string; n: string }[] = await db
        .primaryReader()
        .query('SELECT reason, COUNT(*) AS n FROM login_audits WHERE user_id = ? GROUP BY reason', [
          u.user.id,
        ]);
      const byReason = Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
      return Object.values(byReason).reduce((s, n) => s + n, 0) >= 100 ? byReason : undefined;
    }, 30_000);
    expect(reasons).toEqual({ wrong_password: THRESHOLD, locked: 100 - THRESHOLD });

    const right = await login(b, u.email, u.password, fakeIp());
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('ACCOUNT_LOCKED');
  });

  it('a correct password among concurrent wrong ones still gets in while places are free; a success forgets the failures', async () => {
    const u = await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
    const answers = await Promise.all([
      ...Array.from({ length: THRESHOLD - 2 }, (_, i) => login(a, u.email, `wrong-${i}`, fakeIp())),
      login(b, u.email, u.password, fakeIp()),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, ...Array(THRESHOLD - 2).fill(401)]);
    // A success clears the failures before it: THRESHOLD - 1 more wrong passwords do not lock.
    expect((await login(a, u.email, u.password, fakeIp())).status).toBe(200);
    for (let i = 0; i < THRESHOLD - 1; i++)
      expect((await login(a, u.email, `wrong-again-${i}`, fakeIp())).status).toBe(401);
    expect((await login(b, u.email, u.password, fakeIp())).status).toBe(200);
  });
});

describe('users: per-client login and registration limits group IPv6 addresses by prefix', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      TRUST_PROXY: 'true',
      LOGIN_IP_MAX_ATTEMPTS: '3',
      REGISTER_RATE_LIMIT: '2',
      REGISTER_RATE_WINDOW_SECONDS: '600',
    });
  });
  afterAll(() => t.close());

  it('login: addresses rotated inside one /64 share its budget of 3 attempts; another /64 has its own', async () => {
    const net = v6();
    const answers = [];
    for (const host of ['::1', '::2', ':ffff:ffff:ffff:fffe', '::abcd:9'])
      answers.push(await login(t, uniqueEmail('v6'), 'a-guessed-password', `${net}:1${host}`));
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    expect(answers[3].body.code).toBe('RATE_LIMITED');
    expect(Number(answers[3].headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(t, uniqueEmail('v6'), 'a-guessed-password', `${net}:2::1`)).status).toBe(401);
  });

  it('login: wrong passwords for one account from rotating addresses of one /64 share the per-account budget of 5 (the 6th is refused even with the right password)', async () => {
    const u = await registerUser(t, { headers: { 'x-forwarded-for': fakeIp() } });
    const net = `${v6()}:7`;
    const spare = await startApp({ TRUST_PROXY: 'true' }); // default per-client cap, same Redis
    try {
      for (let i = 1; i <= 5; i++)
        expect((await login(spare, u.email, `wrong-${i}`, `${net}::${i.toString(16)}`)).status).toBe(401);
      const sixth = await login(spare, u.email, u.password, `${net}:dead:beef::6`);
      expect(sixth.status).toBe(429);
      expect(sixth.body.code).toBe('RATE_LIMITED');
      expect((await login(spare, u.email, u.password, `${v6()}:8::1`)).status).toBe(200);
    } finally {
      await spare.close();
    }
  });

  it('registration: addresses inside one /56 share its budget of 2; the next /56 has its own', async () => {
    const net = v6();
    const register = (ip: string) =>
      http('POST', t.api('/auth/register'), {
        body: { email: uniqueEmail('v6reg'), password: 'a-long-password', name: 'V6' },
        headers: { 'x-forwarded-for': ip },
      });
    expect((await register(`${net}:100::1`)).status).toBe(201);
    expect((await register(`${net}:1ff:1:2:3:4`)).status).toBe(201);
    const third = await register(`${net}:1aa::5`);
    expect(third.status).toBe(429);
    expect(third.body.code).toBe('RATE_LIMITED');
    expect((await register(`${net}:200::1`)).status).toBe(201);
  });
});

describe('users: password hashing runs with bounded concurrency; the excess is refused, never queued forever', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      TRUST_PROXY: 'true',
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE_LIMIT: '2',
      PASSWORD_HASH_MAX_WAIT_MS: '60000',
    });
  });
  afterAll(() => t.close());

  it('20 simultaneous logins with 1 slot and 2 places to wait: at least 3 are checked (401), the rest answer 429 AUTH_BUSY with Retry-After; other routes keep answering meanwhile', async () => {
    const flood = Promise.all(
      Array.from({ length: 20 }, () => login(t, uniqueEmail('busy'), 'a-guessed-password', fakeIp())),
    );
    const health = await http('GET', `${t.url}/health`);
    const answers = await flood;
    const counts = tally(answers);
    console.log(`20 simultaneous logins, 1 hashing slot + 2 waiting: ${JSON.stringify(counts)}`);
    expect(health.status).toBe(200);
    expect(Object.keys(counts).sort()).toEqual(['401 INVALID_CREDENTIALS', '429 AUTH_BUSY']);
    expect(counts['401 INVALID_CREDENTIALS']).toBeGreaterThanOrEqual(3);
    const busy = answers.find((r) => r.body?.code === 'AUTH_BUSY')!;
    expect(busy.body).toEqual({
      statusCode: 429,
      code: 'AUTH_BUSY',
      message: expect.any(String),
      requestId: expect.any(String),
      details: { retryAfterSeconds: expect.any(Number) },
    });
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
