import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { signJwt } from './jwt';
import { TestApp, http } from './test-app';

export interface RegisteredUser {
  user: { id: string; email: string; name: string; role: 'customer' | 'admin' };
  accessToken: string;
  refreshToken: string;
  email: string;
  password: string;
}

/** A unique address per call, so tests never collide (also across runs and instances). */
export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@test.local`;
}

/** Registers a fresh customer through the API and returns its tokens and credentials. */
export async function registerUser(
  t: TestApp,
  overrides: { email?: string; password?: string; name?: string; headers?: Record<string, string> } = {},
): Promise<RegisteredUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`;
  const name = overrides.name ?? 'Test User';
  const res = await http('POST', t.api('/auth/register'), {
    body: { email, password, name },
    headers: overrides.headers,
  });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, email, password };
}

/** Logs in and returns the whole auth response (throws on anything but 200). */
export async function login(t: TestApp, email: string, password: string) {
  const res = await http('POST', t.api('/auth/login'), { body: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as Omit<RegisteredUser, 'email' | 'password'>;
}

/** An access token of the admin configured by ADMIN_EMAIL / ADMIN_PASSWORD (created at start). */
export async function adminToken(t: TestApp): Promise<string> {
  return (await login(t, t.config.admin.email, t.config.admin.password)).accessToken;
}

/** A customer inserted directly, with a minted access token. */
export interface BulkUser {
  id: string;
  token: string;
}

/** Customers inserted in bulk (argon2 through the API would dominate the run), with minted tokens. */
export async function bulkUsers(t: TestApp, n: number, tag = 'bulk'): Promise<BulkUser[]> {
  const db = t.app.get(DbRouter);
  const now = new Date();
  const run = randomBytes(4).toString('hex');
  const users = Array.from({ length: n }, (_, i) => ({
    id: newId(),
    email: `${tag}-${run}-${i}@test.local`,
  }));
  await db.execute(
    'INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) VALUES ?',
    [users.map((u) => [u.id, u.email, 'not-a-hash', 'Bulk Buyer', 'customer', now, now])],
  );
  const iat = Math.floor(Date.now() / 1000);
  return users.map((u) => ({
    id: u.id,
    token: signJwt(
      { alg: 'HS256', typ: 'JWT' },
      { sub: u.id, role: 'customer', iat, exp: iat + 3600 },
      t.config.auth.jwtSecret,
    ),
  }));
}
