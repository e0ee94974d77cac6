import * as fs from 'node:fs';
import { http } from '../support/test-app';

/** One request sent by the load generator, with what the client saw. */
export interface Sample {
  kind: string;
  /** X-Request-Id sent with it: nginx logs it, so the access log says which instance served it. */
  rid: string;
  startedAt: number;
  endedAt: number;
  /** HTTP status, 0 when the connection to nginx itself failed */
  status: number;
  code?: string;
  body?: any;
  /** whatever the request builder attached (user, idempotency key...) */
  meta?: Record<string, unknown>;
}

export interface RequestSpec {
  method: string;
  url: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  meta?: Record<string, unknown>;
}

/**
 * Closed-loop load: `loops` concurrent clients per kind, each sending its next request as soon
 * as the previous one is answered, until stop(). Keeps every sample and the set in flight.
 */
export class LoadGenerator {
  readonly samples: Sample[] = [];
  private readonly inFlight = new Set<Sample>();
  private running = true;
  private loops: Promise<void>[] = [];
  private seq = 0;

  constructor(private readonly tag: string) {}

  start(kind: string, loops: number, next: (i: number) => RequestSpec): void {
    for (let l = 0; l < loops; l++)
      this.loops.push(
        (async () => {
          while (this.running) {
            const n = this.seq++;
            const spec = next(n);
            const s: Sample = {
              kind,
              rid: `${this.tag}-${kind}-${n}`,
              startedAt: Date.now(),
              endedAt: 0,
              status: 0,
              meta: spec.meta,
            };
            this.inFlight.add(s);
            try {
              const res = await http(spec.method, spec.url, {
                token: spec.token,
                body: spec.body,
                headers: { ...spec.headers, 'x-request-id': s.rid },
              });
              s.status = res.status;
              s.body = res.body;
              s.code = typeof res.body === 'object' ? res.body?.code : undefined;
            } catch {
              s.status = 0;
            }
            s.endedAt = Date.now();
            this.inFlight.delete(s);
            this.samples.push(s);
          }
        })(),
      );
  }

  /** Requests of each kind sent but not answered yet. */
  inFlightByKind(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.inFlight) out[s.kind] = (out[s.kind] ?? 0) + 1;
    return out;
  }

  /** Waits until `n` more requests have been answered (and at least `minMs` passed). */
  async waitFor(n: number, minMs = 0): Promise<void> {
    const target = this.samples.length + n;
    const notBefore = Date.now() + minMs;
    while (this.samples.length < target || Date.now() < notBefore) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** One line of the nginx access log (log_format nc_main in deploy/nginx/nginx.conf.template). */
export interface AccessLine {
  method: string;
  uri: string;
  status: number;
  rid: string;
  /** every upstream tried, in order (more than one = nginx passed the request on) */
  upstreams: string[];
  upstreamStatuses: string[];
}

const LINE = /"(\S+) (\S+) [^"]*" (\d{3}) \d+ rid=(\S+) rt=\S+ upstream=(.*?) ustatus=(.*?) urt=/;

export function readAccessLog(file: string): AccessLine[] {
  const out: AccessLine[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    // "a, b" = tried a then b; "a : b" = internal redirect (not used here)
    const list = (v: string) => v.split(/\s*,\s*|\s+:\s+/).filter((x) => x && x !== '-');
    out.push({
      method: m[1],
      uri: m[2],
      status: Number(m[3]),
      rid: m[4],
      upstreams: list(m[5]),
      upstreamStatuses: list(m[6]),
    });
  }
  return out;
}
