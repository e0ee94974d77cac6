import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type { RedisService } from '../redis/redis.service';

/**
 * One round trip, atomic (a Lua script runs alone on the server), so instances sharing Redis
 * see one counter and two concurrent hits can never both read the same count:
 * - while the block key lives, report blocked without counting;
 * - otherwise INCR the hit counter, starting its window (PEXPIRE) on the first hit of a window;
 * - the hit that goes over the limit sets the block key for blockDuration.
 * Returns {hits, window ms left, blocked 0/1, block ms left}.
 */
const INCREMENT = `
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or '0')
  return {hits, redis.call('PTTL', KEYS[1]), 1, blockTtl}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if hits == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}
`;

const RELEASE = `
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 1
`;

/**
 * `@nestjs/throttler` storage in Redis, so a limit holds across every instance. Keys carry
 * REDIS_PREFIX and a hash tag, so both keys of one counter live on the same Redis Cluster slot.
 * Times in the returned record are seconds (rounded up), as the throttler expects. Every call is
 * bounded by REDIS_COMMAND_TIMEOUT_MS and then rejects as unavailable (dependency redis): the
 * caller decides whether to fail open, fall back to a LocalThrottler or answer 503.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly redis: RedisService) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const [hitsKey, blockKey] = this.keys(key, throttlerName);
    const [hits, ttlMs, blocked, blockMs] = (await this.redis.bounded(
      this.redis.client.eval(
        INCREMENT,
        2,
        hitsKey,
        blockKey,
        String(Math.max(1, Math.ceil(ttl))),
        String(limit),
        String(Math.max(1, Math.ceil(blockDuration || ttl))),
      ),
      'throttle',
    )) as [number, number, number, number];
    return {
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.max(0, Math.ceil(blockMs / 1000)),
    };
  }

  /** Forgets a counter and its block (e.g. failed logins after a successful one). */
  async reset(key: string, throttlerName: string): Promise<void> {
    await this.redis.bounded(this.redis.client.del(...this.keys(key, throttlerName)), 'throttle reset');
  }

  /**
   * Gives one hit back (an attempt that turned out to be legitimate). Only an existing counter
   * is decremented, never below zero, so no key is left without its expiry; a block stays.
   */
  async release(key: string, throttlerName: string): Promise<void> {
    const [hitsKey] = this.keys(key, throttlerName);
    await this.redis.bounded(this.redis.client.eval(RELEASE, 1, hitsKey), 'throttle release');
  }

  private keys(key: string, throttlerName: string): [string, string] {
    const base = this.redis.key('throttle', throttlerName, `{${key}}`);
    return [`${base}:hits`, `${base}:block`];
  }
}
