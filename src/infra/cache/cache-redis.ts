import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { RedisService } from '../redis/redis.service';

/**
 * The cache's Redis side (decision 0015): the open-key budget's constants, the two Lua scripts
 * (a fill stored only under an unmoved fence and within the budget; a fence moved only forward),
 * the connection they run on and its breaker. TwoLevelCache and its collaborators are their users.
 */

/** The last catalog write's replication position, versioned (see decision 0015). */
export interface Fence {
  v: number;
  pos: string;
}

export const parseFence = (text: string | null | undefined): Fence => {
  const i = text ? text.indexOf('|') : -1;
  return i > 0 ? { v: Number(text!.slice(0, i)), pos: text!.slice(i + 1) } : { v: 0, pos: '' };
};

/** Longest Redis TTL of an entry with an open key (and the budget's accounting horizon). */
export const OPEN_MAX_TTL_MS = 60_000;
/** The budget is spent per window of this length (a Redis-clock window shared by every instance). */
export const BUDGET_WINDOW_MS = 10_000;
/** Windows whose writes can be alive at once: entries written in window k expire before window k + 7 ends. */
export const BUDGET_WINDOWS = Math.ceil(OPEN_MAX_TTL_MS / BUDGET_WINDOW_MS) + 1;
/** Larger serialized values are not written to Redis (L1 still holds them). */
export const MAX_L2_VALUE_BYTES = 256 * 1024;
/** Redis's own bytes per key besides key and value (dict and expiry entries, object headers), counted against the budget. */
export const ENTRY_OVERHEAD_BYTES = 96;
/** After a Redis call timed out, the cache leaves Redis alone this long (then tries again). */
const BREAK_MS = 1000;

/** Whether the cache may ask its Redis now: connected, and no call timed out in the last BREAK_MS. */
export class L2Breaker {
  private skipUntil = 0;

  constructor(private readonly l2: Redis) {}

  /** Redis is connected and has not just failed to answer. */
  usable(): boolean {
    return this.l2.status === 'ready' && Date.now() >= this.skipUntil;
  }

  /** A timed-out call: Redis accepts connections but does not answer; stop asking for BREAK_MS. */
  tripped(err: unknown): void {
    if (/did not answer/.test((err as Error)?.message ?? '')) this.skipUntil = Date.now() + BREAK_MS;
  }
}

/**
 * Stores a value unless the fence moved since the fill began (it may have read an older row) or
 * the open-key budget of the current window is spent. One script, so the check and the write
 * are atomic across instances; TIME makes every instance use Redis's clock for the window.
 * Replies {1, used} stored, {2, used} over budget, {0, fence} fence moved.
 */
const STORE_SCRIPT = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local f = redis.call('GET', KEYS[2])
local v = 0
if f then v = tonumber(string.match(f, '^(%d+)')) or 0 end
if v ~= tonumber(ARGV[3]) then return {0, f or ''} end
local bytes = tonumber(ARGV[4])
local used = 0
if bytes > 0 then
  local t = redis.call('TIME')
  local w = math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / tonumber(ARGV[6]))
  local cur = redis.call('HMGET', KEYS[3], 'w', 'used')
  if tonumber(cur[1]) == w then used = tonumber(cur[2]) or 0 end
  if used + bytes > tonumber(ARGV[5]) then return {2, tostring(used)} end
  used = used + bytes
  redis.call('HSET', KEYS[3], 'w', w, 'used', used)
  redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[6]) * 2)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, tostring(used)}
`;

/** Replaces the fence when the version is newer; replies the fence as it now is. */
const FENCE_SCRIPT = `
local f = redis.call('GET', KEYS[1])
local v = 0
if f then v = tonumber(string.match(f, '^(%d+)')) or 0 end
if tonumber(ARGV[1]) > v then
  f = ARGV[1] .. '|' .. ARGV[2]
  redis.call('SET', KEYS[1], f)
end
return f
`;

export interface ScriptedRedis extends Redis {
  ncCacheStore(
    key: string,
    fenceKey: string,
    budgetKey: string,
    value: string,
    ttlMs: number,
    fenceV: number,
    cost: number,
    allowance: number,
    windowMs: number,
  ): Promise<[number, string]>;
  ncCacheFence(fenceKey: string, v: number, pos: string): Promise<string | null>;
}

/**
 * The cache's Redis connection with the scripts defined: RedisService's fail-fast command
 * connection, or its own when CACHE_REDIS_URL names a separate cache server (`own`); plus the
 * used-memory gauge, read on scrape.
 */
export function cacheRedis(
  redis: RedisService,
  config: AppConfig,
  metrics: MetricsService,
): { l2: ScriptedRedis; own: boolean } {
  const own = config.redis.cacheUrl !== config.redis.url;
  const l2 = own
    ? (() => {
        const r = RedisService.createClient(config.redis.cacheUrl, {
          ...RedisService.commandBounds(config.redis.commandTimeoutMs),
          maxRetriesPerRequest: 1,
          enableOfflineQueue: false,
          connectionName: 'nest-commerce:cache',
        });
        r.on('error', () => undefined);
        return r;
      })()
    : redis.client;
  if (typeof (l2 as unknown as Record<string, unknown>).ncCacheStore !== 'function') {
    l2.defineCommand('ncCacheStore', { numberOfKeys: 3, lua: STORE_SCRIPT });
    l2.defineCommand('ncCacheFence', { numberOfKeys: 1, lua: FENCE_SCRIPT });
  }
  metrics.gauge(
    'shop_cache_redis_used_memory_bytes',
    "used_memory of the cache's Redis (INFO memory; the queue Redis too unless CACHE_REDIS_URL is set), read on scrape",
    [],
    async function (this: import('prom-client').Gauge) {
      if (l2.status !== 'ready') return;
      const m = /used_memory:(\d+)/.exec(await l2.info('memory'));
      if (m) this.set(Number(m[1]));
    },
  );
  return { l2: l2 as ScriptedRedis, own };
}
