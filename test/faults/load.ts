/** Small helpers shared by the fault suites: a timed request log, closed-loop load, bulk users. */

export interface Outcome {
  /** Milliseconds since the load started. */
  start: number;
  end: number;
  /** HTTP status, gRPC status name, or 'no answer' (connection refused/reset, or our timeout). */
  status: number | string;
  code?: string;
  id?: string;
  /** `details.dependency` of an error answer (which dependency a 503 is about). */
  dependency?: string;
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
      ...(body?.details?.dependency ? { dependency: body.details.dependency } : {}),
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
