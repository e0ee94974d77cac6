import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { EntityManager } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { RedisService } from '../redis/redis.service';
import { CHANNEL, CacheInvalidation, WRITE_TIMEOUT_MS } from './cache-invalidation';
import {
  BUDGET_WINDOWS,
  BUDGET_WINDOW_MS,
  ENTRY_OVERHEAD_BYTES,
  L2Breaker,
  MAX_L2_VALUE_BYTES,
  OPEN_MAX_TTL_MS,
  ScriptedRedis,
  cacheRedis,
} from './cache-redis';
import { cacheMetrics, deepFreeze } from './cache-metrics';
import { CLUSTER_CACHE_SHARDS, CacheShards } from './cache-shards';
import { FencedReads } from './fenced-reads';

export { CLUSTER_CACHE_SHARDS };

/** Runs a read where the cache says (a replica that has applied the last write, or the primary). */
export type Reader = <T>(fn: (em: EntityManager) => Promise<T>) => Promise<T>;

/** What a loader found: a value to serialize, or `undefined` for "does not exist" (cached negatively). */
export type Loader = (ctx: { read: Reader }) => Promise<unknown>;

export interface CacheTtl {
  /** In-process TTL; bounds how long another instance may serve a value after an invalidation broadcast was lost. */
  l1Ms: number;
  /** Redis TTL (a random 0–20 % is added so keys written together do not expire together). */
  l2Ms: number;
  /** TTL of a "not found" (both tiers). */
  negativeMs: number;
  /**
   * The keys come from request values (search terms, filters, URLs), not from rows that exist:
   * their Redis writes count against CACHE_REDIS_BUDGET_MB and live at most OPEN_MAX_TTL_MS.
   * "Not found" entries always count, whatever the namespace.
   */
  open?: boolean;
}

const NEGATIVE = '\u0000404';
/** A cache read waits this long for Redis, then counts as a miss. */
const L2_TIMEOUT_MS = 250;
/** How often generations and the fence are re-read from Redis (covers a lost broadcast). */
const SYNC_MS = 1000;

/**
 * Two-level read-through cache of serialized JSON: L1 an in-process LRU (bounded, short TTL),
 * L2 Redis, then the loader (the database). Decisions 0008 and 0015.
 *
 * - Values are stored as ready JSON strings, so a hit is answered without JSON.stringify.
 * - Single flight: concurrent misses of one key in this process share one L2 lookup and one load.
 * - Negative caching: a loader answering `undefined` is remembered as "not found" for `negativeMs`.
 * - Writes: `afterWrite` (after the commit, before answering) moves the **fence** — the
 *   primary's GTID position after the write, with a version from Redis — deletes the written keys
 *   from L2, moves the named namespaces to a new generation and broadcasts all of it; every
 *   instance drops its L1 entries. Loaders read through `ctx.read`, which goes to a replica only
 *   once that replica has applied the fence (FencedReads), else to the primary: a paused,
 *   lagging or silently stalled replica never fills the cache with what was there before a
 *   write. A fill is stored in L2 only if the fence is still the version it read under (checked
 *   atomically in Redis), so a fill racing a write cannot store the old row after the write's
 *   delete. Without GTIDs, written keys are read from the primary for DB_REPLICA_MAX_LAG_SECONDS
 *   instead and the L2 delete is repeated after that window.
 * - Bounded Redis memory: entries whose keys come from requests (`open`, and every "not found")
 *   are written only while the shared per-window budget lasts (CACHE_REDIS_BUDGET_MB across
 *   all instances), live at most OPEN_MAX_TTL_MS, and no value above MAX_L2_VALUE_BYTES is written.
 *   Other keys name rows that exist (a product id, a SKU), so the data bounds them.
 * - Redis down or silent: L2 reads time out fast (L2_TIMEOUT_MS) and count as misses, writes are
 *   dropped, and after a timeout Redis is left alone for BREAK_MS; the answer comes from the
 *   database and the cache never turns a Redis outage into an error or a hang.
 *
 * L2 talks to Redis through ioredis (RedisService's fail-fast command connection, or its own
 * connection when CACHE_REDIS_URL names a separate cache server) rather than @keyv/redis, whose
 * node-redis client queues commands while disconnected (decision 0003). `@nestjs/cache-manager`
 * uses this same connection through RedisKeyvStore (namespace `http`).
 */
@Injectable()
export class TwoLevelCache implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TwoLevelCache');
  private readonly l1 = new LRUCache<string, string>({
    max: 20_000,
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (v) => v.length + 1,
    // An entry's parsed form (getParsed/peekParsed) leaves with it: never more of them than L1 holds.
    dispose: (_v, k) => this.parsed.delete(k),
  });
  /**
   * Parsed forms of L1 entries read through getParsed/peekParsed, by L1 key, with the exact string
   * they were parsed from: handed out again only while L1 still holds that same string.
   */
  private readonly parsed = new Map<string, { raw: string; value: unknown }>();
  private readonly inflight = new Map<string, Promise<string>>();
  private syncTimer?: NodeJS.Timeout;
  private readonly hits;
  private readonly l1Hits;
  private readonly misses;
  private readonly loads;
  private readonly writes;
  private readonly budgetUsed;
  private readonly l2: ScriptedRedis;
  private readonly ownL2: boolean;
  private readonly breaker: L2Breaker;
  /** The key layout per Redis Cluster shard (one shard on a single Redis), decision 0025. */
  private readonly shards: CacheShards;
  /** Fence, generations, afterWrite and broadcasts. */
  private readonly inv: CacheInvalidation;
  readonly freshWindowMs: number;
  /** Bytes of open-key entries all instances together may write per BUDGET_WINDOW_MS. */
  readonly windowAllowance: number;

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
    metrics: MetricsService,
    private readonly fenced: FencedReads,
  ) {
    const m = cacheMetrics(metrics);
    this.hits = m.hits;
    this.l1Hits = m.hits.labels('l1');
    this.misses = m.misses;
    this.loads = m.loads;
    this.writes = m.writes;
    this.budgetUsed = m.budgetUsed;
    this.windowAllowance = Math.floor(config.redis.cacheBudgetBytes / BUDGET_WINDOWS);
    this.budgetUsed.set({ kind: 'limit' }, config.redis.cacheBudgetBytes);
    this.budgetUsed.set({ kind: 'window_allowance' }, this.windowAllowance);
    ({ l2: this.l2, own: this.ownL2 } = cacheRedis(redis, config, metrics));
    this.breaker = new L2Breaker(this.l2);
    this.freshWindowMs = Math.max(1000, config.db.replicaMaxLagSeconds * 1000);
    this.shards = new CacheShards(
      (...parts) => redis.key(...parts),
      config.redis.cacheCluster ? CLUSTER_CACHE_SHARDS : 1,
      this.windowAllowance,
    );
    this.inv = new CacheInvalidation(
      redis,
      this.l2,
      this.breaker,
      this.shards,
      fenced,
      this.l1,
      m.deletes,
      this.logger,
      this.freshWindowMs,
    );
  }

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(CHANNEL, (msg) => this.inv.onBroadcast(msg))
      .catch((err: Error) => this.logger.warn(`cache invalidation channel unavailable: ${err.message}`));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sync(true);
    // Fire and forget: sync() catches its failures (trips the breaker); the next tick tries again.
    this.syncTimer = setInterval(() => void this.sync(false), SYNC_MS).unref();
  }

  /**
   * Loads the namespaces' generations and the fence from Redis: at boot, so a restarted instance
   * neither reads old lists nor trusts a replica behind the last write, and every SYNC_MS, so an
   * instance that missed a broadcast (its subscriber connection was down) catches up anyway.
   */
  sync(logFailure = false): Promise<void> {
    return this.inv.sync(logFailure);
  }

  /**
   * The serialized value for `key`, or `null` when the loader said it does not exist.
   * `key` starts with its namespace: `<namespace>:<rest>`.
   */
  async get(key: string, ttl: CacheTtl, load: Loader): Promise<string | null> {
    const ns = key.slice(0, key.indexOf(':'));
    const full = this.inv.l1Key(ns, key);
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
    const local = this.l1.get(this.inv.l1Key(key.slice(0, key.indexOf(':')), key));
    if (local === undefined || local === NEGATIVE) return undefined;
    this.l1Hits.inc();
    return local;
  }

  /**
   * Like {@link get}, the value parsed (JSON.parse) and deep-frozen: callers share it. While the
   * L1 entry stays the same string, later calls get the same object without parsing again (a
   * price read on every cart request costs a lookup, not a parse). `null`: "not found".
   */
  async getParsed<T>(key: string, ttl: CacheTtl, load: Loader): Promise<T | null> {
    const hit = this.peekParsed<T>(key);
    if (hit !== undefined) return hit;
    const raw = await this.get(key, ttl, load);
    return raw === null ? null : this.parse<T>(this.inv.l1Key(key.slice(0, key.indexOf(':')), key), raw);
  }

  /**
   * {@link getParsed} when this instance's L1 holds the key (a hit, counted as one): the parsed
   * value, `null` for a cached "not found", or `undefined` when L1 does not hold it — nothing is
   * loaded and nothing asynchronous happens.
   */
  peekParsed<T>(key: string): T | null | undefined {
    const full = this.inv.l1Key(key.slice(0, key.indexOf(':')), key);
    const local = this.l1.get(full);
    if (local === undefined) return undefined;
    this.l1Hits.inc();
    return local === NEGATIVE ? null : this.parse<T>(full, local);
  }

  private parse<T>(full: string, raw: string): T {
    const memo = this.parsed.get(full);
    if (memo && memo.raw === raw) return memo.value as T;
    const value = deepFreeze(JSON.parse(raw) as T);
    // Only for what L1 holds now (dispose drops it with the entry); a value L1 did not keep
    // (a fill raced by an invalidation) is parsed for this caller only.
    if (this.l1.peek(full) === raw) this.parsed.set(full, { raw, value });
    return value;
  }

  /** An uncached read that must not be older than the last write (see FencedReads). */
  read<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.fenced.read(this.inv.fence.pos, fn);
  }

  private async fill(ns: string, full: string, key: string, ttl: CacheTtl, load: Loader): Promise<string> {
    const l2key = this.shards.l2Key(full);
    const stored = await this.l2Get(l2key);
    if (stored !== undefined) {
      this.hits.inc({ tier: 'l2' });
      this.l1.set(full, stored, { ttl: stored === NEGATIVE ? Math.min(ttl.l1Ms, ttl.negativeMs) : ttl.l1Ms });
      return stored;
    }
    this.misses.inc({ tier: 'l2' });
    const until = this.inv.freshUntilOf(key);
    const fence = this.inv.fence;
    const startedGen = this.inv.generation(ns);
    const fresh = !this.fenced.enabled && until !== undefined && until > Date.now();
    this.loads.inc({ namespace: ns });
    const value = await load({
      read: fresh ? (fn) => this.fenced.primary(fn) : (fn) => this.fenced.read(fence.pos, fn),
    });
    const serialized = value === undefined ? NEGATIVE : JSON.stringify(value);
    // A broadcast that arrived while loading means what we read may be old: answer it, keep it out of the cache.
    if (this.inv.generation(ns) === startedGen && this.inv.freshUntilOf(key) === until) {
      const isNeg = serialized === NEGATIVE;
      this.l1.set(full, serialized, { ttl: isNeg ? Math.min(ttl.l1Ms, ttl.negativeMs) : ttl.l1Ms });
      const l2Ttl = isNeg ? ttl.negativeMs : Math.round(ttl.l2Ms * (1 + Math.random() * 0.2));
      this.store(l2key, serialized, l2Ttl, isNeg || !!ttl.open, fence.v, full);
    }
    return serialized;
  }

  /**
   * Writes one entry to L2 (not awaited by the caller): checked against the fence version the
   * value was read under and, for open keys, against the budget. `l1key`: the L1 entry to drop
   * if the fence moved meanwhile (the value may predate the write that moved it).
   */
  private store(
    l2key: string,
    value: string,
    ttlMs: number,
    open: boolean,
    fenceV: number,
    l1key?: string,
  ): void {
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_L2_VALUE_BYTES) return void this.writes.inc({ result: 'too_large' });
    if (!this.breaker.usable()) return void this.writes.inc({ result: 'failed' });
    const cost = open ? bytes + Buffer.byteLength(l2key) + ENTRY_OVERHEAD_BYTES : 0;
    const shard = this.shards.shardOfL2Key(l2key);
    withTimeout(
      this.l2.ncCacheStore(
        l2key,
        this.shards.fenceKeys[shard],
        this.shards.budgetKeys[shard],
        value,
        open ? Math.min(ttlMs, OPEN_MAX_TTL_MS) : ttlMs,
        fenceV,
        cost,
        this.shards.allowance,
        BUDGET_WINDOW_MS,
      ),
      WRITE_TIMEOUT_MS,
      'cache write',
    ).then(
      ([code, info]) => {
        if (code === 1) {
          this.writes.inc({ result: 'stored' });
          if (cost) this.budgetUsed.set({ kind: 'window_used' }, Number(info));
        } else if (code === 2) {
          this.writes.inc({ result: 'over_budget' });
          this.budgetUsed.set({ kind: 'window_used' }, Number(info));
        } else {
          this.writes.inc({ result: 'stale' });
          this.inv.adoptFence(info, true);
          if (l1key && this.l1.peek(l1key) === value) this.l1.delete(l1key);
        }
      },
      (err: unknown) => {
        this.breaker.tripped(err);
        this.writes.inc({ result: 'failed' });
      },
    );
  }

  private async l2Get(key: string): Promise<string | undefined> {
    if (!this.breaker.usable()) return undefined;
    try {
      return (await withTimeout(this.l2.get(key), L2_TIMEOUT_MS, 'cache read')) ?? undefined;
    } catch (err) {
      this.breaker.tripped(err);
      return undefined;
    }
  }

  // ---- writes (CacheInvalidation) ------------------------------------------------------------

  /**
   * Call after a write to the data behind cached entries has committed, before answering it.
   * Moves the fence to the primary's position after the write, drops `keys` everywhere (L2 now,
   * L1 on every instance via pub/sub) and moves `namespaces` (every key in them, e.g. all
   * listings) to a new generation. Never fails: with Redis away the other instances are bounded
   * by their L1 TTL and the replica monitor.
   */
  afterWrite(change: { keys?: string[]; namespaces?: string[] }): Promise<void> {
    return this.inv.afterWrite(change);
  }

  /**
   * Calls `listener` with the keys of every invalidation broadcast this instance receives (its
   * own writes' included), after its L1 dropped them: for holders of derived data that must
   * follow the same writes (the catalog's search index). A listener must not throw.
   */
  onInvalidated(listener: (keys: readonly string[]) => void): void {
    this.inv.keyListeners.push(listener);
  }

  /** The fence version now (the Keyv store records it on a miss, see RedisKeyvStore). */
  fenceVersion(): number {
    return this.inv.fence.v;
  }

  // ---- the shared L2 for @nestjs/cache-manager (RedisKeyvStore) --------------------------------

  /** A value of namespace `ns` from Redis only (no L1: entries are shared by every instance as written). */
  sharedGet(ns: string, key: string): Promise<string | undefined> {
    return this.l2Get(this.shards.l2Key(this.inv.l1Key(ns, `${ns}:${key}`)));
  }

  /** Stores a value of an open namespace (budgeted, TTL ≤ OPEN_MAX_TTL_MS) unless the fence moved past `fenceV`. */
  sharedSet(ns: string, key: string, value: string, ttlMs: number, fenceV: number): void {
    this.store(this.shards.l2Key(this.inv.l1Key(ns, `${ns}:${key}`)), value, ttlMs, true, fenceV);
  }

  sharedDelete(ns: string, key: string): Promise<void> {
    return this.inv.deleteL2([`${ns}:${key}`]);
  }

  /** Drops every entry of `ns` on every instance (a new generation). */
  async clearNamespace(ns: string): Promise<void> {
    const gen = await this.inv.nextGeneration(ns);
    await this.inv.broadcast({ keys: [], gens: { [ns]: gen }, fence: '' });
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.syncTimer);
    await this.inv.flushDelayedDeletes();
    if (this.ownL2) this.l2.disconnect();
  }
}
