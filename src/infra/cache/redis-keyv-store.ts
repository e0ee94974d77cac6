import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { LRUCache } from 'lru-cache';
import type { TwoLevelCache } from './two-level-cache.service';

/** Longer keys (URLs with long query strings) are stored under their hash. */
const MAX_KEY_LENGTH = 200;

/**
 * The Keyv store behind `@nestjs/cache-manager` (cache-manager 7 stores are Keyv instances):
 * namespace `http` of TwoLevelCache's Redis tier, so the standard cache API and the catalog's
 * cache share one connection (RedisService's fail-fast ioredis client, or the CACHE_REDIS_URL
 * one), one key scheme under REDIS_PREFIX (`<prefix>:cache:http:g<generation>:<key>`), one
 * memory budget and one invalidation story (decision 0015):
 *
 * - Reads wait at most 250 ms and count as misses while Redis is down or silent (no offline
 *   queue, no hang): CacheInterceptor then runs the handler. Writes never wait for Redis.
 * - Keys come from requests (URLs), so every entry counts against CACHE_REDIS_BUDGET_MB and lives
 *   at most 60 s, whatever TTL is asked for.
 * - A write that changes what an HTTP-cached route answers calls
 *   `TwoLevelCache.afterWrite({ namespaces: ['http'] })`: every cached response is dropped on
 *   every instance (a new generation), and a response computed before the write is not stored
 *   after it (the fence version recorded at the miss, see TwoLevelCache.sharedSet).
 * - `clear()` drops the namespace the same way; `disconnect()` leaves the shared connection open.
 *
 * No L1: a response cached by one instance is what every instance answers.
 */
export class RedisKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = { dialect: 'redis' };
  namespace?: string;
  /** The fence version when a key missed: the value computed after that miss is stored against it. */
  private readonly missedAt = new LRUCache<string, number>({ max: 10_000, ttl: 60_000 });

  constructor(
    private readonly cache: TwoLevelCache,
    private readonly ns = 'http',
    private readonly defaultTtlMs = 5000,
  ) {
    super();
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const k = storeKey(key);
    const v = await this.cache.sharedGet(this.ns, k);
    if (v === undefined) this.missedAt.set(k, this.cache.fenceVersion());
    return v as StoredData<Value> | undefined;
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const k = storeKey(key);
    const fenceV = this.missedAt.get(k) ?? this.cache.fenceVersion();
    this.missedAt.delete(k);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    this.cache.sharedSet(this.ns, k, text, ttl && ttl > 0 ? ttl : this.defaultTtlMs, fenceV);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    await this.cache.sharedDelete(this.ns, storeKey(key));
    return true;
  }

  async clear(): Promise<void> {
    await this.cache.clearNamespace(this.ns);
  }

  async disconnect(): Promise<void> {
    // The connection belongs to RedisService / TwoLevelCache.
  }
}

const storeKey = (key: string): string =>
  key.length <= MAX_KEY_LENGTH ? key : `#${createHash('sha1').update(key).digest('base64url')}`;
