/**
 * A wait on a dependency that ran out of time. `code` is ETIMEDOUT, so the error mapping answers
 * it 503 UNAVAILABLE (gRPC UNAVAILABLE) and names `dependency` in the error's details.
 */
export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(
    message: string,
    /** The dependency that did not answer: 'redis', 'mysql', 'smtp', ... */
    readonly dependency?: string,
  ) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * Rejects with a {@link TimeoutError} when `p` has not settled within `ms` (used around calls
 * to a dependency that may hang, e.g. Redis accepting connections but never answering).
 *
 * The wait counts time the process could have seen an answer: a timer that fires late because
 * the event loop was blocked (a CPU-bound request, a GC pause, a saturated machine) does not
 * reject at once — the answer may be sitting unread in a socket, or need a few more turns of the
 * loop (a multi-command enqueue) — but waits `ms` once more. So a call is abandoned after at most
 * about 2 × `ms` of responsive time, never because of the stall alone.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what = 'call', dependency?: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let due = Date.now() + ms;
    let extended = false;
    let t: NodeJS.Timeout;
    const expire = () => {
      const late = Date.now() - due;
      if (!extended && late > Math.max(25, ms / 4)) {
        extended = true;
        due = Date.now() + ms;
        t = setTimeout(expire, ms);
        t.unref();
        return;
      }
      reject(new TimeoutError(`${what} did not answer within ${ms} ms`, dependency));
    };
    t = setTimeout(expire, ms);
    t.unref();
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
