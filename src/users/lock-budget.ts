import { LRUCache } from 'lru-cache';
import type { RedisService } from '../infra/redis/redis.service';

/**
 * The account-lock count, one Redis hash per account: `f` wrong passwords and `i` checks in
 * flight. A check reserves a place *before* the password is verified, and none is granted once
 * f + i reaches the threshold, so N parallel guesses (from any number of addresses and
 * instances) can never produce more than `threshold` failures: each script runs alone on the
 * server, so two reservations can never both see the last free place.
 *
 * RESERVE: granted → {1, 0}; refused → {0, ms until the count's window ends}.
 */
const RESERVE = `
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local i = tonumber(redis.call('HGET', KEYS[1], 'i') or '0')
if f + i >= tonumber(ARGV[1]) then return {0, redis.call('PTTL', KEYS[1])} end
redis.call('HINCRBY', KEYS[1], 'i', 1)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, 0}
`;

/**
 * FAIL: the reservation becomes a failure. Exactly the failure that reaches the threshold
 * returns 1 (the caller locks the account) and keeps the count full for the lock's length, so
 * reservations stay refused until the lock ends — also for an instance that read the row just
 * before the lock was written.
 */
const FAIL = `
if tonumber(redis.call('HGET', KEYS[1], 'i') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'i', -1) end
local f = redis.call('HINCRBY', KEYS[1], 'f', 1)
if f == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** SUCCEED: the reservation is returned and the failures are forgotten (others in flight stay). */
const SUCCEED = `
local i = tonumber(redis.call('HGET', KEYS[1], 'i') or '0')
if i > 1 then redis.call('HSET', KEYS[1], 'i', i - 1, 'f', 0) else redis.call('DEL', KEYS[1]) end
return 1
`;

/** RELEASE: the reservation is returned unused (nothing was verified). */
const RELEASE = `
if tonumber(redis.call('HGET', KEYS[1], 'i') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'i', -1) end
return 1
`;

export type Reservation = { granted: true } | { granted: false; retryAfterSeconds: number };

/** The Redis side of the count; the keys carry a hash tag (one Redis Cluster slot). */
export class RedisLockBudget {
  constructor(private readonly redis: RedisService) {}

  async reserve(account: string, threshold: number, windowMs: number): Promise<Reservation> {
    const [ok, ttl] = (await this.redis.client.eval(
      RESERVE,
      1,
      this.key(account),
      String(threshold),
      String(windowMs),
    )) as [number, number];
    return ok === 1 ? { granted: true } : { granted: false, retryAfterSeconds: seconds(ttl) };
  }

  async fail(account: string, threshold: number, windowMs: number): Promise<boolean> {
    return (
      (await this.redis.client.eval(FAIL, 1, this.key(account), String(threshold), String(windowMs))) === 1
    );
  }

  async succeed(account: string): Promise<void> {
    await this.redis.client.eval(SUCCEED, 1, this.key(account));
  }

  async release(account: string): Promise<void> {
    await this.redis.client.eval(RELEASE, 1, this.key(account));
  }

  /** Forgets the count (the password was reset: the lock is lifted). */
  async clear(account: string): Promise<void> {
    await this.redis.client.del(this.key(account));
  }

  private key(account: string): string {
    return this.redis.key('login-lock', `{${account}}`);
  }
}

interface Count {
  f: number;
  i: number;
  endsAt: number;
}

/** The same count in this process only: the fallback while Redis is unreachable (bounded LRU). */
export class LocalLockBudget {
  private readonly counts = new LRUCache<string, Count>({ max: 50_000 });

  reserve(account: string, threshold: number, windowMs: number): Reservation {
    const c = this.live(account, windowMs);
    if (c.f + c.i >= threshold) return { granted: false, retryAfterSeconds: seconds(c.endsAt - Date.now()) };
    c.i++;
    return { granted: true };
  }

  fail(account: string, threshold: number, windowMs: number): boolean {
    const c = this.live(account, windowMs);
    if (c.i > 0) c.i--;
    c.f++;
    if (c.f !== threshold) return false;
    c.endsAt = Date.now() + windowMs;
    return true;
  }

  succeed(account: string): void {
    const c = this.counts.get(account);
    if (c && c.i > 1) Object.assign(c, { i: c.i - 1, f: 0 });
    else this.counts.delete(account);
  }

  release(account: string): void {
    const c = this.counts.get(account);
    if (c && c.i > 0) c.i--;
  }

  clear(account: string): void {
    this.counts.delete(account);
  }

  private live(account: string, windowMs: number): Count {
    let c = this.counts.get(account);
    if (!c || c.endsAt <= Date.now()) {
      c = { f: 0, i: 0, endsAt: Date.now() + windowMs };
      this.counts.set(account, c);
    }
    return c;
  }
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
