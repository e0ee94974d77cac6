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
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what = 'call', dependency?: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new TimeoutError(`${what} did not answer within ${ms} ms`, dependency)),
      ms,
    );
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
