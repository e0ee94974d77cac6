import type { DataSource } from 'typeorm';
import { isUnavailableError, mapError } from '../../common/errors/error-mapping';
import { PoolAcquireTimeoutError, boundPoolAcquire } from './pool-acquire';

/** A stand-in for the mysql2 pool under a DataSource: connections are handed out when the test says. */
function fakePool() {
  const waiting: ((err: Error | null, conn?: { release(): void }) => void)[] = [];
  const released: number[] = [];
  let next = 0;
  const pool = {
    getConnection: (cb: (err: Error | null, conn?: { release(): void }) => void) => void waiting.push(cb),
    /** Gives the oldest waiter a connection (as mysql2 does when one is released). */
    serve() {
      const id = next++;
      waiting.shift()?.(null, { release: () => released.push(id) });
      return id;
    },
  };
  const ds = { driver: { pool } } as unknown as DataSource;
  return { pool, ds, waiting, released };
}

const acquire = (pool: { getConnection: (cb: (e: Error | null, c?: unknown) => void) => void }) =>
  new Promise<unknown>((resolve, reject) => pool.getConnection((err, c) => (err ? reject(err) : resolve(c))));

describe('boundPoolAcquire', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('fails a wait for a free connection after the bound with a 503 UNAVAILABLE naming mysql', async () => {
    const { pool, ds } = fakePool();
    boundPoolAcquire(ds, 3000, 'primary');
    const p = acquire(pool);
    const outcome = p.catch((e: unknown) => e);
    jest.advanceTimersByTime(2999);
    await Promise.resolve();
    jest.advanceTimersByTime(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(PoolAcquireTimeoutError);
    expect((err as Error).message).toContain('primary pool within 3000 ms');
    expect(isUnavailableError(err)).toBe(true);
    expect(mapError(err)).toMatchObject({
      status: 503,
      code: 'UNAVAILABLE',
      details: { dependency: 'mysql' },
    });
  });

  it('hands a connection that arrives in time to the waiter, and one that arrives late back to the pool', async () => {
    const { pool, ds, released } = fakePool();
    boundPoolAcquire(ds, 1000, 'replica-1');
    const inTime = acquire(pool);
    const late = acquire(pool).catch((e: unknown) => e);
    pool.serve();
    await expect(inTime).resolves.toEqual({ release: expect.any(Function) });
    jest.advanceTimersByTime(1000);
    expect(await late).toBeInstanceOf(PoolAcquireTimeoutError);
    const lateId = pool.serve(); // the pool finally frees one for the waiter that gave up
    expect(released).toEqual([lateId]);
  });

  it('leaves the pool alone with a bound of 0, and bounds it once however often it is called', () => {
    const { pool, ds } = fakePool();
    const original = pool.getConnection;
    boundPoolAcquire(ds, 0, 'primary');
    expect(pool.getConnection).toBe(original);
    boundPoolAcquire(ds, 1000, 'primary');
    const bounded = pool.getConnection;
    boundPoolAcquire(ds, 1000, 'primary');
    expect(pool.getConnection).toBe(bounded);
  });
});
