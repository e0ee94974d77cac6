import { randomBytes } from 'node:crypto';
import { MailCatcher } from '../../scripts/infra/mail-catcher';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { UsersService } from '../../src/users';
import { RegisteredUser, registerUser, uniqueEmail } from '../support/auth';
import { JsonResponse, TestApp, eventually, http, startApp } from '../support/test-app';

/**
 * Issue 20, account flows a shop needs, end to end through a real SMTP server (the test's own
 * MailCatcher) and the mail queue: email verification by a signed single-use link, password
 * reset by a mailed single-use token (same answer for known and unknown emails), and password
 * change that ends every other session.
 */

const WEB = 'https://shop.test';
const fakeIp = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The `token` of the first link to `path` in a mail's text. */
const tokenIn = (text: string, path: string): string => {
  const m = new RegExp(`${WEB.replace(/\./g, '\\.')}${path}\\?token=(\\S+)`).exec(text);
  if (!m) throw new Error(`no ${path} link in: ${text}`);
  return decodeURIComponent(m[1]);
};
const accessClaims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('users: account flows through the mail queue and a real SMTP server', () => {
  let smtp: MailCatcher;
  let t: TestApp;
  /** Same database, Redis and secret, with verification links that expire after 1 s. */
  let shortLived: TestApp;
  const mailsTo = (email: string, subject?: string) =>
    smtp.messages.filter((m) => m.to.includes(email) && (!subject || m.subject === subject));
  const waitMail = (email: string, subject: string, timeoutMs = 20_000) =>
    smtp.waitFor((m) => m.to.includes(email) && m.subject === subject, timeoutMs);
  const reg = (app: TestApp = t) => registerUser(app, { headers: { 'x-forwarded-for': fakeIp() } });
  const login = (email: string, password: string) =>
    http('POST', t.api('/auth/login'), {
      body: { email, password },
      headers: { 'x-forwarded-for': fakeIp() },
    });
  const refresh = (refreshToken: string) => http('POST', t.api('/auth/refresh'), { body: { refreshToken } });
  const requestReset = (email: string, ip = fakeIp()) =>
    http('POST', t.api('/auth/password-reset'), { body: { email }, headers: { 'x-forwarded-for': ip } });
  const confirmReset = (token: string, password: string) =>
    http('POST', t.api('/auth/password-reset/confirm'), {
      body: { token, password },
      headers: { 'x-forwarded-for': fakeIp() },
    });
  const confirmEmail = (token: string) =>
    http('POST', t.api('/auth/email-verification/confirm'), { body: { token } });
  const me = async (u: { accessToken: string }) =>
    (await http('GET', t.api('/users/me'), { token: u.accessToken })).body;

  beforeAll(async () => {
    smtp = new MailCatcher({ smtpPort: 0 });
    await smtp.start();
    const env = {
      SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}`,
      PUBLIC_WEB_URL: `${WEB}/`,
      TRUST_PROXY: 'true',
      LOGIN_LOCK_AFTER_FAILURES: '3',
      LOGIN_LOCK_SECONDS: '600',
    };
    [t, shortLived] = await Promise.all([
      startApp(env),
      startApp({ ...env, EMAIL_VERIFICATION_TTL_SECONDS: '1' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), shortLived?.close()]);
    await smtp?.stop();
  });

  it('documents each new operation in the OpenAPI document with its error codes as examples in the contract shape', async () => {
    const doc = (await http('GET', `${t.url}/docs-json`)).body;
    const examples = (path: string, status: string) =>
      doc.paths[path].post.responses[status].content['application/json'];
    const cases: [string, string, string[]][] = [
      [
        '/api/v1/auth/email-verification/confirm',
        '400',
        ['VERIFICATION_TOKEN_INVALID', 'VERIFICATION_TOKEN_EXPIRED'],
      ],
      ['/api/v1/auth/email-verification/confirm', '409', ['EMAIL_ALREADY_VERIFIED']],
      ['/api/v1/auth/password-reset', '429', ['RATE_LIMITED']],
      [
        '/api/v1/auth/password-reset/confirm',
        '400',
        ['RESET_TOKEN_INVALID', 'RESET_TOKEN_USED', 'RESET_TOKEN_EXPIRED'],
      ],
      ['/api/v1/auth/password-reset/confirm', '429', ['RATE_LIMITED', 'AUTH_BUSY']],
      ['/api/v1/auth/login', '429', ['RATE_LIMITED', 'ACCOUNT_LOCKED', 'AUTH_BUSY']],
      ['/api/v1/users/me/email-verification', '409', ['EMAIL_ALREADY_VERIFIED']],
      ['/api/v1/users/me/password', '403', ['INVALID_CURRENT_PASSWORD']],
      ['/api/v1/users/me/password', '429', ['ACCOUNT_LOCKED', 'AUTH_BUSY']],
    ];
    for (const [path, status, codes] of cases) {
      const content = examples(path, status);
      expect(content.schema).toEqual({ $ref: '#/components/schemas/ErrorResponseDto' });
      expect(Object.keys(content.examples).sort()).toEqual([...codes].sort());
      for (const code of codes)
        expect(content.examples[code].value).toEqual({
          statusCode: Number(status),
          code,
          message: expect.any(String),
          requestId: expect.any(String),
        });
    }
  });

  describe('email verification', () => {
    it('the welcome mail carries a signed link; following it verifies the address (GET /users/me, the users API, the next access token), and using it again is 409 EMAIL_ALREADY_VERIFIED', async () => {
      const u = await reg();
      expect((await me(u)).emailVerified).toBe(false);
      expect(accessClaims(u.accessToken).ev).toBeUndefined();
      const welcome = await waitMail(u.email, 'Welcome to nest-commerce, Test User');
      const token = tokenIn(welcome.text, '/verify-email');
      expect(welcome.html).toContain('/verify-email?token');

      const ok = await confirmEmail(token);
      expect(ok.status).toBe(204);
      expect((await me(u)).emailVerified).toBe(true);
      expect(await t.app.get(UsersService).isEmailVerified(u.user.id)).toBe(true);
      const next = await refresh(u.refreshToken);
      expect(next.status).toBe(200);
      expect(accessClaims(next.body.accessToken).ev).toBe(true);

      const again = await confirmEmail(token);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({
        statusCode: 409,
        code: 'EMAIL_ALREADY_VERIFIED',
        message: expect.any(String),
        requestId: expect.any(String),
      });
    });

    it('a forged, altered or foreign link is 400 VERIFICATION_TOKEN_INVALID and verifies nothing', async () => {
      const [u, other] = await Promise.all([reg(), reg()]);
      const token = tokenIn(
        (await waitMail(u.email, 'Welcome to nest-commerce, Test User')).text,
        '/verify-email',
      );
      const [id, exp, mac] = token.split('.');
      const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      for (const bad of [
        `${id}.${exp}.${flip(mac)}`,
        `${id}.${Number(exp) + 3600}.${mac}`, // a longer life is another signature
        `${other.user.id}.${exp}.${mac}`, // another account
        `${id}.${exp}`,
        'not-a-token',
        `${id}.${exp}.${mac}.extra`,
      ]) {
        const res = await confirmEmail(bad);
        expect({ bad, status: res.status, code: res.body.code }).toEqual({
          bad,
          status: 400,
          code: 'VERIFICATION_TOKEN_INVALID',
        });
      }
      expect((await me(u)).emailVerified).toBe(false);
      expect((await me(other)).emailVerified).toBe(false);
    });

    it('an expired link is 400 VERIFICATION_TOKEN_EXPIRED', async () => {
      const u = await reg(shortLived);
      const token = tokenIn(
        (await waitMail(u.email, 'Welcome to nest-commerce, Test User')).text,
        '/verify-email',
      );
      await sleep(Math.max(0, Number(token.split('.')[1]) * 1000 - Date.now()) + 100);
      const res = await confirmEmail(token);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VERIFICATION_TOKEN_EXPIRED');
      expect((await me(u)).emailVerified).toBe(false);
    });

    it('POST /users/me/email-verification mails a new link (202), at most ACCOUNT_MAIL_LIMIT (3) per window (then 429), and 409 once verified', async () => {
      const u = await reg();
      const answers: JsonResponse[] = [];
      for (let i = 0; i < 4; i++)
        answers.push(await http('POST', t.api('/users/me/email-verification'), { token: u.accessToken }));
      expect(answers.map((r) => r.status)).toEqual([202, 202, 202, 429]);
      expect(answers[3].body.code).toBe('RATE_LIMITED');
      expect(Number(answers[3].headers.get('retry-after'))).toBeGreaterThan(0);
      await eventually(async () => mailsTo(u.email, 'Confirm your email address').length >= 1, 20_000);
      const mail = mailsTo(u.email, 'Confirm your email address')[0];
      expect(mail.text).toContain('48 hours');
      expect((await confirmEmail(tokenIn(mail.text, '/verify-email'))).status).toBe(204);
      const v = await reg();
      await confirmEmail(
        tokenIn((await waitMail(v.email, 'Welcome to nest-commerce, Test User')).text, '/verify-email'),
      );
      const done = await http('POST', t.api('/users/me/email-verification'), { token: v.accessToken });
      expect(done.status).toBe(409);
      expect(done.body.code).toBe('EMAIL_ALREADY_VERIFIED');
    });
  });

  describe('password reset', () => {
    it('answers a known and an unknown email alike (status, body, headers, time); only the account gets a mail, and at most ACCOUNT_MAIL_LIMIT (3) of them', async () => {
      const u = await reg();
      const unknown = uniqueEmail('nobody');
      const samples: Record<'known' | 'unknown', { ms: number; res: JsonResponse }[]> = {
        known: [],
        unknown: [],
      };
      // Interleaved, each first in turn, so drift in the machine's load hits both alike.
      for (let i = 0; i < 12; i++) {
        for (const kind of i % 2 ? (['known', 'unknown'] as const) : (['unknown', 'known'] as const)) {
          const started = performance.now();
          const res = await requestReset(kind === 'known' ? u.email : unknown);
          samples[kind].push({ ms: performance.now() - started, res });
        }
      }
      const shape = (r: JsonResponse) => ({
        status: r.status,
        body: { ...r.body, requestId: undefined },
        headers: [...r.headers.keys()].sort(),
      });
      const shapes = new Set([...samples.known, ...samples.unknown].map((s) => JSON.stringify(shape(s.res))));
      expect(shapes.size).toBe(1);
      expect(shape(samples.known[0].res)).toMatchObject({
        status: 202,
        body: { message: 'If an account uses this email, a password-reset link is on its way.' },
      });
      const [known, unknownMs] = [
        median(samples.known.map((s) => s.ms)),
        median(samples.unknown.map((s) => s.ms)),
      ];
      console.log(
        `password-reset request, median of 12 each: known ${known.toFixed(1)} ms, unknown ${unknownMs.toFixed(1)} ms`,
      );
      // Same code path for both (count the client, queue a job): the medians differ by noise only.
      expect(Math.abs(known - unknownMs)).toBeLessThan(Math.max(50, 0.5 * Math.min(known, unknownMs)));

      // 12 requests for the account, 3 mails (its mail budget); the other jobs send nothing.
      await eventually(async () => mailsTo(u.email, 'Reset your nest-commerce password').length >= 3, 30_000);
      await sleep(2000);
      expect(mailsTo(u.email, 'Reset your nest-commerce password')).toHaveLength(3);
      expect(mailsTo(unknown)).toHaveLength(0);
      const [rows] = await t.app
        .get(DbRouter)
        .primaryReader()
        .query('SELECT COUNT(*) AS n FROM password_reset_tokens WHERE user_id = ?', [u.user.id]);
      expect(Number(rows.n)).toBe(3);
    });

    it('the mailed token sets a new password once: it lifts a lock, verifies the address, ends every session, mails a notice; reusing it is 400 RESET_TOKEN_USED', async () => {
      const u = await reg();
      const other = await login(u.email, u.password);
      expect(other.status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await login(u.email, `wrong-${i}-password`)).status).toBe(401);
      expect((await login(u.email, u.password)).body.code).toBe('ACCOUNT_LOCKED');

      expect((await requestReset(u.email)).status).toBe(202);
      const mail = await waitMail(u.email, 'Reset your nest-commerce password');
      const token = tokenIn(mail.text, '/reset-password');
      expect(mail.text).toContain('30 minutes');
      const [stored] = await t.app
        .get(DbRouter)
        .primaryReader()
        .query('SELECT token_hash FROM password_reset_tokens WHERE user_id = ?', [u.user.id]);
      expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(stored.token_hash).not.toContain(token);

      const done = await confirmReset(token, 'a-brand-new-password');
      expect(done.status).toBe(204);
      expect((await login(u.email, u.password)).status).toBe(401);
      const fresh = await login(u.email, 'a-brand-new-password');
      expect(fresh.status).toBe(200);
      for (const rt of [u.refreshToken, other.body.refreshToken]) {
        const r = await refresh(rt);
        expect({ status: r.status, code: r.body.code }).toEqual({
          status: 401,
          code: 'REFRESH_TOKEN_REVOKED',
        });
      }
      expect((await me(fresh.body)).emailVerified).toBe(true);
      const notice = await waitMail(u.email, 'Your nest-commerce password was changed');
      expect(notice.text).toContain('reset through an emailed link');

      const again = await confirmReset(token, 'yet-another-password');
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('RESET_TOKEN_USED');
      expect((await login(u.email, 'a-brand-new-password')).status).toBe(200);
    });

    it('an unknown token is 400 RESET_TOKEN_INVALID, an expired one 400 RESET_TOKEN_EXPIRED; neither changes the password', async () => {
      const bogus = await confirmReset(randomBytes(32).toString('base64url'), 'a-brand-new-password');
      expect(bogus.status).toBe(400);
      expect(bogus.body.code).toBe('RESET_TOKEN_INVALID');

      const u = await reg();
      expect((await requestReset(u.email)).status).toBe(202);
      const mail = await waitMail(u.email, 'Reset your nest-commerce password');
      const token = tokenIn(mail.text, '/reset-password');
      // PASSWORD_RESET_TTL_SECONDS later: the row's expiry moved to the past (on the app's clock).
      await t.app
        .get(DbRouter)
        .execute('UPDATE password_reset_tokens SET expires_at = ? WHERE user_id = ?', [
          new Date(Date.now() - 1000),
          u.user.id,
        ]);
      const expired = await confirmReset(token, 'a-brand-new-password');
      expect(expired.status).toBe(400);
      expect(expired.body.code).toBe('RESET_TOKEN_EXPIRED');
      expect((await login(u.email, u.password)).status).toBe(200);
    });

    it('PASSWORD_RESET_IP_LIMIT (10) requests per client per window, known or unknown email alike, then 429', async () => {
      const ip = fakeIp();
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) statuses.push((await requestReset(uniqueEmail('spray'), ip)).status);
      expect(statuses).toEqual([...Array(10).fill(202), 429]);
      const known = await requestReset((await reg()).email, ip);
      expect(known.status).toBe(429);
      expect(known.body.code).toBe('RATE_LIMITED');
    });
  });

  describe('password change', () => {
    let u: RegisteredUser;
    beforeEach(async () => {
      u = await reg();
    });
    const change = (token: string, currentPassword: string, newPassword: string) =>
      http('POST', t.api('/users/me/password'), { token, body: { currentPassword, newPassword } });

    it('needs the current password (403 INVALID_CURRENT_PASSWORD); then every other session ends, the answer is a new session, and a notice is mailed', async () => {
      const second = await login(u.email, u.password);
      const wrong = await change(u.accessToken, 'not-my-password', 'a-brand-new-password');
      expect(wrong.status).toBe(403);
      expect(wrong.body.code).toBe('INVALID_CURRENT_PASSWORD');

      const res = await change(u.accessToken, u.password, 'a-brand-new-password');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        user: u.user,
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
      });
      for (const rt of [u.refreshToken, second.body.refreshToken]) {
        const r = await refresh(rt);
        expect({ status: r.status, code: r.body.code }).toEqual({
          status: 401,
          code: 'REFRESH_TOKEN_REVOKED',
        });
      }
      expect((await refresh(res.body.refreshToken)).status).toBe(200);
      expect((await login(u.email, u.password)).status).toBe(401);
      expect((await login(u.email, 'a-brand-new-password')).status).toBe(200);
      const notice = await waitMail(u.email, 'Your nest-commerce password was changed');
      expect(notice.text).toContain('was just changed');
    });

    it('wrong current passwords count towards the account lock: after 3, even the right one is 429 ACCOUNT_LOCKED', async () => {
      for (let i = 0; i < 3; i++)
        expect((await change(u.accessToken, `wrong-${i}-password`, 'a-brand-new-password')).status).toBe(403);
      const locked = await change(u.accessToken, u.password, 'a-brand-new-password');
      expect(locked.status).toBe(429);
      expect(locked.body.code).toBe('ACCOUNT_LOCKED');
      expect((await login(u.email, u.password)).body.code).toBe('ACCOUNT_LOCKED');
    });
  });
});
