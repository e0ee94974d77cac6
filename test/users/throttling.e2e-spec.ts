import { randomBytes } from 'node:crypto';
import { adminToken, registerUser } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';

/**
 * A fresh client address per test (the apps trust X-Forwarded-For), so counts start at zero and
 * the low registration limit of these apps never blocks 127.0.0.1, which the other suites share.
 */
const fakeIp = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;

describe('users: brute-force and registration limits hold across two instances sharing Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const env = { TRUST_PROXY: 'true', REGISTER_RATE_LIMIT: '3', REGISTER_RATE_WINDOW_SECONDS: '60' };
    [a, b] = await Promise.all([startApp(env), startApp(env)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('after 5 failed logins for one email from one IP (spread over both instances) the next is 429 with Retry-After, even with the right password', async () => {
    const u = await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
    const ip = fakeIp();
    const login = (t: TestApp, password: string, from = ip) =>
      http('POST', t.api('/auth/login'), {
        body: { email: u.email, password },
        headers: { 'x-forwarded-for': from },
      });
    for (let i = 0; i < 5; i++) expect((await login(i % 2 ? a : b, `wrong-${i}-pw`)).status).toBe(401);
    for (const t of [a, b]) {
      const res = await login(t, u.password);
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('RATE_LIMITED');
      const retry = Number(res.headers.get('retry-after'));
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(60);
    }
    // Another address is not affected.
    expect((await login(a, u.password, fakeIp())).status).toBe(200);

    const admin = await adminToken(a);
    const audit = await eventually(async () => {
      const r = await http('GET', a.api(`/admin/login-audits?email=${encodeURIComponent(u.email)}`), {
        token: admin,
      });
      return r.body.items?.some((i: any) => i.reason === 'rate_limited') ? r.body : undefined;
    });
    expect(audit.items.filter((i: any) => i.reason === 'rate_limited').length).toBeGreaterThanOrEqual(2);
  });

  it('a successful login clears the failure count', async () => {
    const u = await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
    const ip = fakeIp();
    const login = (password: string) =>
      http('POST', a.api('/auth/login'), {
        body: { email: u.email, password },
        headers: { 'x-forwarded-for': ip },
      });
    for (let i = 0; i < 4; i++) expect((await login('wrong-password')).status).toBe(401);
    expect((await login(u.password)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login('wrong-password')).status).toBe(401);
    expect((await login(u.password)).status).toBe(200);
  });

  it('parallel guesses cannot slip past the limit', async () => {
    const u = await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
    const ip = fakeIp();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        http('POST', (i % 2 ? a : b).api('/auth/login'), {
          body: { email: u.email, password: `guess-${i}-pw` },
          headers: { 'x-forwarded-for': ip },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
    expect(results.filter((r) => r.status === 429)).toHaveLength(15);
  });

  it('registration is limited per IP across instances: the 4th within the window is 429 with Retry-After', async () => {
    const ip = fakeIp();
    const headers = { 'x-forwarded-for': ip };
    await registerUser(a, { headers });
    await registerUser(b, { headers });
    await registerUser(a, { headers });
    const res = await http('POST', b.api('/auth/register'), {
      body: { email: `x-${Date.now()}@test.local`, password: 'a-long-password', name: 'X' },
      headers,
    });
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('RATE_LIMITED');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address can still register.
    await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
  });

  it('does not throttle other routes', async () => {
    const u = await registerUser(a, { headers: { 'x-forwarded-for': fakeIp() } });
    const results = await Promise.all(
      Array.from({ length: 100 }, () => http('GET', a.api('/users/me'), { token: u.accessToken })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
  });
});
