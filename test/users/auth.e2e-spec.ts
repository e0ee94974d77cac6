import * as argon2 from 'argon2';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { UsersService } from '../../src/users';
import { adminToken, registerUser, uniqueEmail } from '../support/auth';
import { decodeJwt, signJwt } from '../support/jwt';
import { TestApp, eventually, http, startApp } from '../support/test-app';

describe('users: accounts and tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('registers a customer (201) with the contract shape and an HS256 access token carrying sub and role', async () => {
    const email = uniqueEmail('Reg');
    const res = await http('POST', t.api('/auth/register'), {
      body: { email: `  ${email.toUpperCase()} `, password: 'a-long-password', name: 'Ada' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      user: { id: expect.any(String), email: email.toLowerCase(), name: 'Ada', role: 'customer' },
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    expect(res.body.user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { header, payload } = decodeJwt(res.body.accessToken);
    expect(header.alg).toBe('HS256');
    expect(payload).toMatchObject({ sub: res.body.user.id, role: 'customer' });
    expect(payload.exp - payload.iat).toBe(t.config.auth.accessTtlSeconds);
  });

  it('rejects a second account with the same email (any case) with 409 EMAIL_TAKEN', async () => {
    const u = await registerUser(t);
    const res = await http('POST', t.api('/auth/register'), {
      body: { email: u.email.toUpperCase(), password: 'another-password', name: 'Dup' },
    });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('EMAIL_TAKEN');
  });

  it('never lets the client choose its role: register with role admin is 400 VALIDATION_FAILED', async () => {
    const res = await http('POST', t.api('/auth/register'), {
      body: { email: uniqueEmail(), password: 'a-long-password', name: 'Mallory', role: 'admin' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.body.details)).toContain('role');
  });

  it('validates register input (email, password length, name)', async () => {
    const res = await http('POST', t.api('/auth/register'), {
      body: { email: 'not-an-email', password: 'short', name: '' },
    });
    expect(res.status).toBe(400);
    expect(res.body.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'email',
      'name',
      'password',
    ]);
  });

  it('logs in (200) with the same shape and answers GET /users/me for the bearer', async () => {
    const u = await registerUser(t);
    const res = await http('POST', t.api('/auth/login'), { body: { email: u.email, password: u.password } });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(u.user);
    const me = await http('GET', t.api('/users/me'), { token: res.body.accessToken });
    expect(me.status).toBe(200);
    // emailVerified: no verification link followed yet (issue 20).
    expect(me.body).toEqual({ ...u.user, emailVerified: false, createdAt: expect.any(String) });
  });

  it('answers a wrong password and an unknown email alike: 401 INVALID_CREDENTIALS', async () => {
    const u = await registerUser(t);
    const wrong = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: 'nope-nope-nope' },
    });
    const unknown = await http('POST', t.api('/auth/login'), {
      body: { email: uniqueEmail('ghost'), password: 'nope-nope-nope' },
    });
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'Invalid email or password' });
    }
  });

  it('the configured admin exists after start and has the admin role', async () => {
    const token = await adminToken(t);
    const me = await http('GET', t.api('/users/me'), { token });
    expect(me.body).toMatchObject({ email: t.config.admin.email, role: 'admin' });
  });

  it('requires a bearer token on protected routes: none, malformed, tampered, alg none and expired are 401', async () => {
    const u = await registerUser(t);
    const secret = t.config.auth.jwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const [h, p, s] = u.accessToken.split('.');
    const elevated = Buffer.from(
      JSON.stringify({ ...decodeJwt(u.accessToken).payload, role: 'admin' }),
    ).toString('base64url');
    const cases: Array<[string, Record<string, string>, string]> = [
      ['no header', {}, 'UNAUTHENTICATED'],
      ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, 'UNAUTHENTICATED'],
      ['garbage', { authorization: 'Bearer abc.def.ghi' }, 'UNAUTHENTICATED'],
      ['tampered payload', { authorization: `Bearer ${h}.${elevated}.${s}` }, 'UNAUTHENTICATED'],
      ['tampered signature', { authorization: `Bearer ${h}.${p}.${s.slice(0, -2)}xx` }, 'UNAUTHENTICATED'],
      [
        'alg none',
        {
          authorization: `Bearer ${signJwt({ alg: 'none', typ: 'JWT' }, { sub: u.user.id, role: 'admin', iat: now })}`,
        },
        'UNAUTHENTICATED',
      ],
      [
        'wrong secret',
        {
          authorization: `Bearer ${signJwt({ alg: 'HS256' }, { sub: u.user.id, role: 'customer' }, 'x'.repeat(40))}`,
        },
        'UNAUTHENTICATED',
      ],
      [
        'expired',
        {
          authorization: `Bearer ${signJwt({ alg: 'HS256', typ: 'JWT' }, { sub: u.user.id, role: 'customer', iat: now - 120, exp: now - 60 }, secret)}`,
        },
        'TOKEN_EXPIRED',
      ],
    ];
    for (const [name, headers, code] of cases) {
      const res = await http('GET', t.api('/users/me'), { headers });
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code });
      expect(res.body.requestId).toEqual(expect.any(String));
    }
    // The genuine token still works.
    expect((await http('GET', t.api('/users/me'), { token: u.accessToken })).status).toBe(200);
  });

  it('rotates the refresh token on every use and a reused one revokes the whole family (401 REFRESH_TOKEN_REUSED)', async () => {
    const u = await registerUser(t);
    const r1 = await http('POST', t.api('/auth/refresh'), { body: { refreshToken: u.refreshToken } });
    expect(r1.status).toBe(200);
    expect(r1.body).toEqual({
      user: u.user,
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
    });
    expect(r1.body.refreshToken).not.toBe(u.refreshToken);
    const r2 = await http('POST', t.api('/auth/refresh'), { body: { refreshToken: r1.body.refreshToken } });
    expect(r2.status).toBe(200);

    // The first token comes back (stolen copy): rejected, and the family's live token dies with it.
    const reuse = await http('POST', t.api('/auth/refresh'), { body: { refreshToken: u.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('REFRESH_TOKEN_REUSED');
    const live = await http('POST', t.api('/auth/refresh'), { body: { refreshToken: r2.body.refreshToken } });
    expect(live.status).toBe(401);
    expect(live.body.code).toBe('REFRESH_TOKEN_REVOKED');

    // Another login (another family) is unaffected.
    const other = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: u.password },
    });
    expect(
      (await http('POST', t.api('/auth/refresh'), { body: { refreshToken: other.body.refreshToken } }))
        .status,
    ).toBe(200);
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const u = await registerUser(t);
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        http('POST', t.api('/auth/refresh'), { body: { refreshToken: u.refreshToken } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 200)) {
      expect(r.status).toBe(401);
      expect(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_REVOKED']).toContain(r.body.code);
    }
    // The losers presented a token already rotated: reuse, so the whole family is revoked,
    // the winner's fresh token included.
    const winner = results.find((r) => r.status === 200)!;
    const next = await http('POST', t.api('/auth/refresh'), {
      body: { refreshToken: winner.body.refreshToken },
    });
    expect(next.status).toBe(401);
    expect(['REFRESH_TOKEN_REUSED', 'REFRESH_TOKEN_REVOKED']).toContain(next.body.code);
  });

  it('rejects an unknown refresh token with 401', async () => {
    const res = await http('POST', t.api('/auth/refresh'), { body: { refreshToken: 'not-a-token' } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('logout (204) revokes the session: its refresh token no longer works', async () => {
    const u = await registerUser(t);
    const out = await http('POST', t.api('/auth/logout'), {
      token: u.accessToken,
      body: { refreshToken: u.refreshToken },
    });
    expect(out.status).toBe(204);
    const res = await http('POST', t.api('/auth/refresh'), { body: { refreshToken: u.refreshToken } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('REFRESH_TOKEN_REVOKED');
    expect((await http('POST', t.api('/auth/logout'), {})).status).toBe(401);
  });

  it('a login replaces a hash made with older parameters, and a wrong password or a changed hash never does', async () => {
    const u = await registerUser(t);
    const db = t.app.get(DbRouter);
    const stored = async (): Promise<string> =>
      (await db.primaryReader().query('SELECT password_hash FROM users WHERE id = ?', [u.user.id]))[0]
        .password_hash;
    expect(await stored()).toContain('$m=19456,p=1,t=2$');
    // As an older release (argon2's defaults: 64 MiB, t=3, p=4) would have stored it.
    const old = await argon2.hash(u.password, { type: argon2.argon2id });
    expect(old).toContain('$m=65536,p=4,t=3$');
    await db.execute('UPDATE users SET password_hash = ? WHERE id = ?', [old, u.user.id]);

    const wrong = await http('POST', t.api('/auth/login'), {
      body: { email: u.email, password: 'nope-nope-nope' },
    });
    expect(wrong.status).toBe(401);
    await new Promise((r) => setTimeout(r, 500));
    expect(await stored()).toBe(old);

    const ok = await http('POST', t.api('/auth/login'), { body: { email: u.email, password: u.password } });
    expect(ok.status).toBe(200);
    await eventually(async () => (await stored()) !== old, 10000);
    expect(await stored()).toContain('$m=19456,p=1,t=2$');
    expect(await argon2.verify(await stored(), u.password)).toBe(true);
    expect(
      (await http('POST', t.api('/auth/login'), { body: { email: u.email, password: u.password } })).status,
    ).toBe(200);

    // Conditional on the hash it read: a password changed meanwhile is never overwritten.
    const current = await stored();
    expect(await t.app.get(UsersService).replaceHash(u.user.id, old, 'x')).toBe(false);
    expect(await stored()).toBe(current);
  });
});
