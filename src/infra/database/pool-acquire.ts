import type { DataSource } from 'typeorm';

/** No free connection of a pool within DB_ACQUIRE_TIMEOUT_MS: answered 503 UNAVAILABLE (dependency mysql). */
export class PoolAcquireTimeoutError extends Error {
  readonly code = 'DB_ACQUIRE_TIMEOUT';
  readonly dependency = 'mysql';

  constructor(pool: string, ms: number) {
    super(`no free connection of the ${pool} pool within ${ms} ms (DB_ACQUIRE_TIMEOUT_MS)`);
    this.name = 'PoolAcquireTimeoutError';
  }
}

const BOUNDED = Symbol('acquire-bounded');

type Release = { release(): void };
type GetConnection = (cb: (err: Error | null, conn?: Release) => void) => void;
interface Mysql2Pool {
  getConnection: GetConnection;
  [BOUNDED]?: true;
}

/**
 * Bounds the wait for a connection of the mysql2 pool behind `ds`: mysql2 pools queue
 * `getConnection` without a time limit (TypeORM's `acquireTimeout` is not a mysql2 option), so
 * with every connection held by statements stuck on a silent server, or a pool too small for a
 * burst, a request would wait for as long as they do. Past `timeoutMs` the waiter gets a
 * {@link PoolAcquireTimeoutError}; a connection that arrives for it later goes straight back to the
 * pool. Covers everything TypeORM and DbRouter obtain from the pool (queries, transactions,
 * batches), as they all go through `pool.getConnection`. 0 leaves the pool as it is.
 */
export function boundPoolAcquire(ds: DataSource, timeoutMs: number, pool: string): void {
  const p = (ds.driver as unknown as { pool?: Mysql2Pool } | undefined)?.pool;
  if (!(timeoutMs > 0) || !p || typeof p.getConnection !== 'function' || p[BOUNDED]) return;
  const getConnection = p.getConnection.bind(p) as GetConnection;
  p.getConnection = (cb) => {
    let waiting = true;
    const timer = setTimeout(() => {
      waiting = false;
      cb(new PoolAcquireTimeoutError(pool, timeoutMs));
    }, timeoutMs);
    getConnection((err, conn) => {
      clearTimeout(timer);
      if (waiting) {
        waiting = false;
        cb(err, conn);
      } else if (!err && conn) {
        conn.release();
      }
    });
  };
  p[BOUNDED] = true;
}
