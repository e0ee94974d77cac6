import autocannon from 'autocannon';

export interface LoadResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  requests: number;
  statusCodes?: Record<string, number>;
  /** Responses per exact status code (e.g. 401 vs 429). */
  byStatus?: Record<string, number>;
}

export interface HttpLoad {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request bodies (round-robin), e.g. distinct users or keys; `setupRequest` makes each one anew. */
  requests?: {
    method?: 'GET' | 'POST';
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    setupRequest?: (req: autocannon.Request) => autocannon.Request;
  }[];
  /** Open loop: this many requests per second over all connections (latency corrected for coordinated omission). */
  overallRate?: number;
  connections: number;
  durationSec: number;
  /** Stop after this many requests instead of after durationSec. */
  amount?: number;
  /** Seconds of the same load before measuring (JIT, pools and caches warm up), not recorded. */
  warmupSec?: number;
}

/** Runs autocannon in-process; latencies in milliseconds. */
export async function httpLoad(l: HttpLoad): Promise<LoadResult> {
  const r = await autocannon({
    url: l.url,
    method: l.method ?? 'GET',
    headers: l.headers,
    body: l.body,
    requests: l.requests as autocannon.Request[] | undefined,
    connections: l.connections,
    ...(l.overallRate ? { overallRate: l.overallRate } : {}),
    ...(l.amount ? { amount: l.amount } : { duration: l.durationSec }),
    ...(l.warmupSec && !l.amount ? { warmup: { connections: l.connections, duration: l.warmupSec } } : {}),
    pipelining: 1,
  });
  const codes: Record<string, number> = {};
  for (const [k, v] of Object.entries(r as unknown as Record<string, unknown>)) {
    const m = /^(\d)xx$/.exec(k);
    if (m && typeof v === 'number' && v > 0) codes[k] = v;
  }
  const byStatus: Record<string, number> = {};
  const stats =
    (r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, { count }] of Object.entries(stats)) byStatus[code] = count;
  return {
    name: l.name,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    requests: r.requests.total,
    statusCodes: codes,
    byStatus,
  };
}

/** A closed-loop load of an async operation with fixed concurrency (for raw drivers and gRPC). */
export async function loopLoad(
  name: string,
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  durationSec: number,
  warmupSec = 0,
): Promise<LoadResult> {
  if (warmupSec > 0) {
    const until = Date.now() + warmupSec * 1000;
    let w = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (Date.now() < until) await op(w++).catch(() => undefined);
      }),
    );
  }
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const end = Date.now() + durationSec * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const i = n++;
        const t0 = process.hrtime.bigint();
        try {
          await op(i);
          lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch {
          errors++;
        }
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const q = (p: number) =>
    lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] * 100) / 100 : 0;
  return {
    name,
    rps: Math.round(lat.length / durationSec),
    p50: q(0.5),
    p99: q(0.99),
    errors,
    non2xx: 0,
    requests: lat.length + errors,
  };
}
