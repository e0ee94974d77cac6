import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { RedisService } from '../redis/redis.service';

/** What a loader found: a value to serialize, or `undefined` for "does not exist" (cached negatively). */
export type Loader = (ctx: { fresh: boolean }) => Promise<unknown>;

export interface CacheTtl {
  /** In-process TTL; bounds how long another instance may serve a value after an invalidation broadcast was lost. */
  l1Ms: number;
  /** Redis TTL (a random 0–20 % is added so keys written together do not expire together). */
  l2Ms: number;
  /** TTL of a "not found" (both tiers). */
  negativeMs: number;
}

const NEGATIVE = '\u0000404';
const CHANNEL = 'cache-invalidate';
const L2_TIMEOUT_MS = 250;

/**
 * Two-level read-through cache of serialized JSON: L1 an in-process LRU (bounded, short TTL),
 * L2 Redis, then the loader (the database).
 *
 * - Values are stored as ready JSON strings, so a hit is answered without JSON.stringify.
 * - Single flight: concurrent misses of one key in this process share one L2 lookup and one load.
 * - Negative caching: a loader answering `undefined` is remembered as "not found" for `negativeMs`.
 * - Invalidation: `invalidate(keys)` deletes the L2 keys and broadcasts on Redis pub/sub; every
 *   instance drops its L1 entries. For `freshWindowMs` afterwards, loads of those keys are told
 *   `fresh: true` so the caller reads the primary rather than a replica that may not have the
 *   write yet; the L2 delete is repeated once after that window, covering a load on another
 *   instance that read the old row just before the write and stored it after the first delete.
 * - Namespaces (`list:` keys etc.) are invalidated as a whole by bumping a generation number
 *   that is part of every key, so no key scan is needed.
 * - Redis down: L2 reads time out fast or fail and count as misses, writes are dropped; the
 *   answer comes from the database and the cache never turns a Redis outage into an error.
 *
 * L2 talks to Redis through ioredis (RedisService's fail-fast command connection, or its own
 * connection when CACHE_REDIS_URL names a separate cache server) rather than cache-manager +
 * @keyv/redis: Keyv's node-redis client queues commands while disconnected, which turned "Redis
 * is down" into hanging requests; ioredis with the offline queue off fails at once.
 */
@Injectable()
export class TwoLevelCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('TwoLevelCache');
  private readonly l1 = new LRUCache<string, string>({
    max: 20_000,
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (v) => v.length + 1,
  });
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly freshUntil = new Map<string, number>();
  private readonly generations = new Map<string, number>();
  /** Second deletes not yet run (see invalidate); flushed at shutdown while Redis is still connected. */
  private readonly delayedDeletes = new Map<NodeJS.Timeout, string[]>();
  private readonly hits;
  private readonly l1Hits;
  private readonly misses;
  private readonly loads;
  private readonly l2: Redis;
  private readonly ownL2: boolean;
  readonly freshWindowMs: number;

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.hits = metrics.counter('shop_cache_hits_total', 'Cache hits by tier', ['tier']);
    this.l1Hits = this.hits.labels('l1');
    this.misses = metrics.counter('shop_cache_misses_total', 'Cache misses by tier', ['tier']);
    this.loads = metrics.counter(
      'shop_cache_loads_total',
      'Loads from the source of truth after both tiers missed',
      ['namespace'],
    );
    this.ownL2 = config.redis.cacheUrl !== config.redis.url;
    this.l2 = this.ownL2
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
    this.freshWindowMs = Math.max(1000, config.db.replicaMaxLagSeconds * 1000);
  }

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(CHANNEL, (msg) => this.onBroadcast(msg))
      .catch((err: Error) => this.logger.warn(`cache invalidation channel unavailable: ${err.message}`));
  }

  /**
   * The serialized value for `key`, or `null` when the loader said it does not exist.
   * `key` starts with its namespace: `<namespace>:<rest>`.
   */
  async get(key: string, ttl: CacheTtl, load: Loader): Promise<string | null> {
    const ns = key.slice(0, key.indexOf(':'));
    const full = this.l1Key(ns, key);
    const local = this.l1.get(full);
    if (local !== undefined) {
      this.l1Hits.inc();
      return local === NEGATIVE ? null : local;
    }
    this.misses.inc({ tier: 'l1' });
    let p = this.inflight.get(full);
    if (!p) {
      p = this.fill(ns, full, key, ttl, load).finally(() => this.inflight.delete(full));
      this.inflight.set(full, p);
    }
    const v = await p;
    return v === NEGATIVE ? null : v;
  }

  /**
   * The value of `key` when this instance's L1 holds it (a hit, counted as one), else undefined:
   * no Redis, no database, nothing asynchronous. Negative entries read as undefined too.
   */
  peek(key: string): string | undefined {
    const local = this.l1.get(this.l1Key(key.slice(0, key.indexOf(':')), key));
    if (local === undefined || local === NEGATIVE) return undefined;
    this.l1Hits.inc();
    return local;
  }

  private l1Key(ns: string, key: string): string {
    return `${ns}:g${this.generations.get(ns) ?? 0}:${key.slice(ns.length + 1)}`;
  }

  private async fill(ns: string, full: string, key: string, ttl: CacheTtl, load: Loader): Promise<string> {
    const l2key = this.redis.key('cache', full);
    const stored = await this.l2Get(l2key);
    if (stored !== undefined) {
      this.hits.inc({ tier: 'l2' });
      this.l1.set(full, stored, { ttl: stored === NEGATIVE ? Math.min(ttl.l1Ms, ttl.negativeMs) : ttl.l1Ms });
      return stored;
    }
    this.misses.inc({ tier: 'l2' });
    const until = this.freshUntil.get(key);
    const fresh = until !== undefined && until > Date.now();
    const startedGen = this.generations.get(ns) ?? 0;
    this.loads.inc({ namespace: ns });
    const value = await load({ fresh });
    const serialized = value === undefined ? NEGATIVE : JSON.stringify(value);
    // A broadcast that arrived while loading means what we read may be old: answer it, keep it out of L1.
    if ((this.generations.get(ns) ?? 0) === startedGen && this.freshUntil.get(key) === until) {
      const isNeg = serialized === NEGATIVE;
      this.l1.set(full, serialized, { ttl: isNeg ? Math.min(ttl.l1Ms, ttl.negativeMs) : ttl.l1Ms });
      const l2Ttl = isNeg ? ttl.negativeMs : Math.round(ttl.l2Ms * (1 + Math.random() * 0.2));
      this.l2.set(l2key, serialized, 'PX', l2Ttl).catch(() => undefined);
    }
    return serialized;
  }

  private async l2Get(key: string): Promise<string | undefined> {
    if (this.l2.status !== 'ready') return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const v = await Promise.race([
        this.l2.get(key),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), L2_TIMEOUT_MS);
        }),
      ]);
      return v ?? undefined;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops `keys` everywhere (L2 now and once more after the fresh window; L1 on every instance via pub/sub). */
  async invalidate(...keys: string[]): Promise<void> {
    if (!keys.length) return;
    for (const k of keys) this.dropLocal(k);
    await this.deleteL2(keys);
    await this.redis.publish(CHANNEL, JSON.stringify({ keys }));
    const timer = setTimeout(() => {
      this.delayedDeletes.delete(timer);
      void this.deleteL2(keys);
    }, this.freshWindowMs).unref();
    this.delayedDeletes.set(timer, keys);
  }

  /** Invalidates every key of a namespace (e.g. all cached listings) by moving to a new generation. */
  async invalidateNamespace(ns: string): Promise<void> {
    let gen = (this.generations.get(ns) ?? 0) + 1;
    try {
      gen = Math.max(gen, await this.l2.incr(this.redis.key('cache', 'gen', ns)));
    } catch {
      /* Redis down: this instance moves on; others expire their L1 by TTL */
    }
    this.setGeneration(ns, gen);
    await this.redis.publish(CHANNEL, JSON.stringify({ ns, gen }));
  }

  /** Loads the current generation of namespaces from Redis (at boot, so a restarted instance does not read old lists). */
  async syncNamespaces(...namespaces: string[]): Promise<void> {
    for (const ns of namespaces) {
      const raw = await this.l2Get(this.redis.key('cache', 'gen', ns));
      if (raw) this.setGeneration(ns, Number(raw));
    }
  }

  private async deleteL2(keys: string[]): Promise<void> {
    const full = keys.map((k) => {
      const ns = k.slice(0, k.indexOf(':'));
      return this.redis.key('cache', `${ns}:g${this.generations.get(ns) ?? 0}:${k.slice(ns.length + 1)}`);
    });
    await this.l2.del(...full).catch((err: Error) => this.logger.warn(`L2 delete failed: ${err.message}`));
  }

  private onBroadcast(msg: string): void {
    try {
      const m = JSON.parse(msg) as { keys?: string[]; ns?: string; gen?: number };
      for (const k of m.keys ?? []) this.dropLocal(k);
      if (m.ns && m.gen) this.setGeneration(m.ns, m.gen);
    } catch {
      /* not ours */
    }
  }

  private dropLocal(key: string): void {
    const ns = key.slice(0, key.indexOf(':'));
    this.l1.delete(`${ns}:g${this.generations.get(ns) ?? 0}:${key.slice(ns.length + 1)}`);
    const now = Date.now();
    this.freshUntil.set(key, now + this.freshWindowMs);
    if (this.freshUntil.size > 10_000)
      for (const [k, t] of this.freshUntil) if (t <= now) this.freshUntil.delete(k);
  }

  private setGeneration(ns: string, gen: number): void {
    if (gen > (this.generations.get(ns) ?? 0)) this.generations.set(ns, gen);
  }

  async onModuleDestroy(): Promise<void> {
    const pending = [...this.delayedDeletes];
    this.delayedDeletes.clear();
    for (const [timer] of pending) clearTimeout(timer);
    await Promise.all(pending.map(([, keys]) => this.deleteL2(keys)));
    if (this.ownL2) this.l2.disconnect();
  }
}
