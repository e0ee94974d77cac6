import { randomBytes } from 'node:crypto';
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
