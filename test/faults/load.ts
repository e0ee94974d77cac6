/** Small helpers shared by the fault suites: a timed request log, closed-loop load, bulk users. */
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { signJwt } from '../support/jwt';
import type { TestApp } from '../support/test-app';

export interface Outcome {
  /** Milliseconds since the load started. */
  start: number;
  end: number;
  /** HTTP status, gRPC status name, or 'no answer' (connection refused/reset, or our timeout). */
  status: number | string;
  code?: string;
  id?: string;
  error?: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A JSON request that never throws: network failures become an outcome too. */
export async function timedFetch(
  t0: number,
  url: string,
  init: {
    method: string;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
  },
): Promise<Outcome> {
  const start = Date.now() - t0;
  try {
    const res = await fetch(url, {
      method: init.method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return {
      start,
      end: Date.now() - t0,
      status: res.status,
      code: body?.code,
      id: body?.id ?? body?.reservationId,
    };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { start, end: Date.now() - t0, status: 'no answer', error: e.cause?.code ?? e.name };
  }
}

/** Runs `n` workers calling `fn` back to back until `stop()` is true. */
export async function closedLoop<T>(
  n: number,
  stop: () => boolean,
  fn: (worker: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, w) => {
      while (!stop()) out.push(await fn(w));
    }),
  );
  return out;
}

export function countBy<T>(items: T[], key: (x: T) => string | number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[String(key(i))] = (out[String(key(i))] ?? 0) + 1;
  return out;
}

export function latency(outcomes: Outcome[]): string {
  if (!outcomes.length) return 'n/a';
  const d = outcomes.map((o) => o.end - o.start).sort((a, b) => a - b);
  return `p50 ${d[Math.floor(d.length / 2)]} ms, max ${d[d.length - 1]} ms`;
}

/** Customers inserted in bulk (argon2 through the API would dominate the run), with minted tokens. */
export async function bulkUsers(t: TestApp, n: number): Promise<{ id: string; token: string }[]> {
  const db = t.app.get(DbRouter);
  const now = new Date();
  const tag = randomBytes(4).toString('hex');
  const users = Array.from({ length: n }, (_, i) => ({ id: newId(), email: `fault-${tag}-${i}@test.local` }));
  await db.primary.query(
    'INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) VALUES ?',
    [users.map((u) => [u.id, u.email, 'not-a-hash', 'Fault Buyer', 'customer', now, now])],
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
