import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { EntityManager } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { RedisService } from '../redis/redis.service';
import {
  BUDGET_WINDOWS,
  BUDGET_WINDOW_MS,
  ENTRY_OVERHEAD_BYTES,
  Fence,
  MAX_L2_VALUE_BYTES,
  OPEN_MAX_TTL_MS,
  ScriptedRedis,
  cacheRedis,
  parseFence,
} from './cache-redis';
import { FencedReads } from './fenced-reads';

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
const CHANNEL = 'cache-invalidate';
/** A cache read waits this long for Redis, then counts as a miss. */
const L2_TIMEOUT_MS = 250;
/** Writes, invalidations and fence updates wait this long for Redis. */
const WRITE_TIMEOUT_MS = 1000;
/** After a Redis call timed out, the cache leaves Redis alone this long (then tries again). */
const BREAK_MS = 1000;
/** How often generations and the fence are re-read from Redis (covers a lost broadcast). */
const SYNC_MS = 1000;

/**
 * On a Redis Cluster the L2 entries are spread over this many hash tags (`{c0}` … `{c15}`, the
 * shard is a hash of the entry's key), each with its own copy of the fence and its own share of
 * the open-key budget: the store script checks the fence and the budget atomically with the
 * write, so they must live in the entry's slot. Decision 0025. One Redis has one shard (the key
 * names of before).
 */
export const CLUSTER_CACHE_SHARDS = 16;

/** The shard of an entry: FNV-1a of its key, modulo the shard count. */
function shardOf(key: string, shards: number): number {
  if (shards === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** The fence with the highest version among the shards' copies (null when none is set). */
function newestFence(texts: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const t of texts) if (t && (best === null || parseFence(t).v > parseFence(best).v)) best = t;
  return best;
}

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
  });
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly freshUntil = new Map<string, number>();
  private readonly generations = new Map<string, number>();
  /** Second deletes not yet run (see afterWrite); flushed at shutdown while Redis is still connected. */
  private readonly delayedDeletes = new Map<NodeJS.Timeout, string[]>();
  private fence: Fence = { v: 0, pos: '' };
  private l2SkipUntil = 0;
  private syncTimer?: NodeJS.Timeout;
  private readonly hits;
  private readonly l1Hits;
  private readonly misses;
  private readonly loads;
  private readonly writes;
  private readonly budgetUsed;
  private readonly l2: ScriptedRedis;
  private readonly ownL2: boolean;
  readonly freshWindowMs: number;
  /** Bytes of open-key entries all instances together may write per BUDGET_WINDOW_MS. */
  readonly windowAllowance: number;
  /** Per shard (one on a single Redis): the fence copy and the open-key budget of its slot. */
  private readonly fenceKeys: string[];
  private readonly budgetKeys: string[];
  private readonly fenceSeqKey: string;
  private readonly gensKey: string;
  /** The tag of each shard's keys (`{c<n>}:` on a cluster, '' on one Redis). */
  private readonly shardTags: string[];
  /** Open-key bytes one shard may take per window (the allowance split over the shards). */
  private readonly shardAllowance: number;
  private readonly deletes;

  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
    metrics: MetricsService,
    private readonly fenced: FencedReads,
  ) {
    this.hits = metrics.counter('shop_cache_hits_total', 'Cache hits by tier', ['tier']);
    this.l1Hits = this.hits.labels('l1');
    this.misses = metrics.counter('shop_cache_misses_total', 'Cache misses by tier', ['tier']);
    this.loads = metrics.counter(
      'shop_cache_loads_total',
      'Loads from the source of truth after both tiers missed',
      ['namespace'],
    );
    this.writes = metrics.counter(
      'shop_cache_l2_writes_total',
      'Cache writes to Redis by result: stored, over_budget (open-key budget spent), too_large, stale (a write moved the fence during the fill), failed',
      ['result'],
    );
    this.budgetUsed = metrics.gauge(
      'shop_cache_l2_budget_bytes',
      'Open-key cache budget in Redis: limit (CACHE_REDIS_BUDGET_MB), window_allowance and window_used (bytes written in the current window, as last seen)',
      ['kind'],
    );
    this.deletes = metrics.counter(
      'shop_cache_l2_deletes_total',
      'Cache entries deleted from Redis after a write, by result: deleted, failed (left to their TTL and the delayed second delete)',
      ['result'],
    );
    this.windowAllowance = Math.floor(config.redis.cacheBudgetBytes / BUDGET_WINDOWS);
    this.budgetUsed.set({ kind: 'limit' }, config.redis.cacheBudgetBytes);
    this.budgetUsed.set({ kind: 'window_allowance' }, this.windowAllowance);
    ({ l2: this.l2, own: this.ownL2 } = cacheRedis(redis, config, metrics));
    this.freshWindowMs = Math.max(1000, config.db.replicaMaxLagSeconds * 1000);
    const shards = config.redis.cacheCluster ? CLUSTER_CACHE_SHARDS : 1;
    this.shardTags = Array.from({ length: shards }, (_, i) => (shards > 1 ? `{c${i}}:` : ''));
    this.shardAllowance = Math.floor(this.windowAllowance / shards);
    this.fenceKeys = this.shardTags.map((tag) => redis.key('cache', `${tag}fence`));
    this.budgetKeys = this.shardTags.map((tag) => redis.key('cache', `${tag}budget`));
    this.fenceSeqKey = redis.key('cache', 'fence-seq');
    this.gensKey = redis.key('cache', 'gens');
  }

  async onModuleInit(): Promise<void> {
    await this.redis
      .subscribe(CHANNEL, (msg) => this.onBroadcast(msg))
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
  async sync(logFailure = false): Promise<void> {
    if (!this.l2Usable()) return;
    try {
      const [gens, ...fences] = await withTimeout(
        Promise.all([this.l2.hgetall(this.gensKey), ...this.fenceKeys.map((k) => this.l2.get(k))]),
        WRITE_TIMEOUT_MS,
        'cache sync',
      );
      for (const [ns, gen] of Object.entries(gens)) this.setGeneration(ns, Number(gen));
      this.adoptFence(newestFence(fences), true);
    } catch (err) {
      this.tripped(err);
      if (logFailure) this.logger.warn(`cache generations not loaded: ${(err as Error).message}`);
    }
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

  /** An uncached read that must not be older than the last write (see FencedReads). */
  read<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.fenced.read(this.fence.pos, fn);
  }

  private l1Key(ns: string, key: string): string {
    return `${ns}:g${this.generations.get(ns) ?? 0}:${key.slice(ns.length + 1)}`;
  }

  private async fill(ns: string, full: string, key: string, ttl: CacheTtl, load: Loader): Promise<string> {
    const l2key = this.l2Key(full);
    const stored = await this.l2Get(l2key);
    if (stored !== undefined) {
      this.hits.inc({ tier: 'l2' });
      this.l1.set(full, stored, { ttl: stored === NEGATIVE ? Math.min(ttl.l1Ms, ttl.negativeMs) : ttl.l1Ms });
      return stored;
    }
    this.misses.inc({ tier: 'l2' });
    const until = this.freshUntil.get(key);
    const fence = this.fence;
    const startedGen = this.generations.get(ns) ?? 0;
    const fresh = !this.fenced.enabled && until !== undefined && until > Date.now();
    this.loads.inc({ namespace: ns });
    const value = await load({
      read: fresh ? (fn) => this.fenced.primary(fn) : (fn) => this.fenced.read(fence.pos, fn),
    });
    const serialized = value === undefined ? NEGATIVE : JSON.stringify(value);
    // A broadcast that arrived while loading means what we read may be old: answer it, keep it out of the cache.
    if ((this.generations.get(ns) ?? 0) === startedGen && this.freshUntil.get(key) === until) {
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
    if (!this.l2Usable()) return void this.writes.inc({ result: 'failed' });
    const cost = open ? bytes + Buffer.byteLength(l2key) + ENTRY_OVERHEAD_BYTES : 0;
    const shard = this.shardOfL2Key(l2key);
    withTimeout(
      this.l2.ncCacheStore(
        l2key,
        this.fenceKeys[shard],
        this.budgetKeys[shard],
        value,
        open ? Math.min(ttlMs, OPEN_MAX_TTL_MS) : ttlMs,
        fenceV,
        cost,
        this.shardAllowance,
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
          this.adoptFence(info, true);
          if (l1key && this.l1.peek(l1key) === value) this.l1.delete(l1key);
        }
      },
      (err: unknown) => {
        this.tripped(err);
        this.writes.inc({ result: 'failed' });
      },
    );
  }

  private async l2Get(key: string): Promise<string | undefined> {
    if (!this.l2Usable()) return undefined;
    try {
      return (await withTimeout(this.l2.get(key), L2_TIMEOUT_MS, 'cache read')) ?? undefined;
    } catch (err) {
      this.tripped(err);
      return undefined;
    }
  }

  /** Redis is connected and has not just failed to answer. */
  private l2Usable(): boolean {
    return this.l2.status === 'ready' && Date.now() >= this.l2SkipUntil;
  }

  /** A timed-out call: Redis accepts connections but does not answer; stop asking for BREAK_MS. */
  private tripped(err: unknown): void {
    if (/did not answer/.test((err as Error)?.message ?? '')) this.l2SkipUntil = Date.now() + BREAK_MS;
  }

  // ---- writes --------------------------------------------------------------------------------

  /**
   * Call after a write to the data behind cached entries has committed, before answering it.
   * Moves the fence to the primary's position after the write, drops `keys` everywhere (L2 now,
   * L1 on every instance via pub/sub) and moves `namespaces` (every key in them, e.g. all
   * listings) to a new generation. Never fails: with Redis away the other instances are bounded
   * by their L1 TTL and the replica monitor.
   */
  async afterWrite(change: { keys?: string[]; namespaces?: string[] }): Promise<void> {
    const keys = change.keys ?? [];
    await this.advanceFence();
    for (const k of keys) this.dropLocal(k);
    await this.deleteL2(keys);
    const gens: Record<string, number> = {};
    for (const ns of change.namespaces ?? []) gens[ns] = await this.nextGeneration(ns);
    await this.broadcast({ keys, gens, fence: `${this.fence.v}|${this.fence.pos}` });
    if (keys.length && !this.fenced.enabled) {
      // Without GTIDs a fill on another instance may have read the old row from a replica and
      // stored it after our delete: delete once more when the fresh window has passed.
      const timer = setTimeout(() => {
        this.delayedDeletes.delete(timer);
        void this.deleteL2(keys); // nobody waits on this second delete; deleteL2 catches and logs
      }, this.freshWindowMs).unref();
      this.delayedDeletes.set(timer, keys);
    }
  }

  private async advanceFence(): Promise<void> {
    if (!this.fenced.enabled) return;
    // The version is taken before the position is read: a fence with a higher version was read
    // after this write committed, so it covers it too, and "newest version wins" never loses a write.
    let v: number | undefined;
    if (this.l2Usable())
      v = await withTimeout(this.l2.incr(this.fenceSeqKey), WRITE_TIMEOUT_MS, 'cache fence').catch(
        (err: unknown) => void this.tripped(err),
      );
    let pos: string;
    try {
      pos = await this.fenced.primaryPosition();
    } catch (err) {
      this.logger.warn(`fence not moved, primary position unreadable: ${(err as Error).message}`);
      return;
    }
    if (v === undefined) {
      this.fence = { v: this.fence.v, pos }; // Redis away: this instance at least reads past its own write
      return;
    }
    // Every shard's copy moves before the written keys are deleted (afterWrite), so a fill that
    // read under the old version is refused by its shard's script or deleted afterwards.
    const now = await withTimeout(
      Promise.all(this.fenceKeys.map((k) => this.l2.ncCacheFence(k, v, pos))),
      WRITE_TIMEOUT_MS,
      'cache fence',
    ).catch((err: unknown) => void this.tripped(err));
    this.adoptFence(now ? newestFence(now) : `${v}|${pos}`, now !== undefined);
  }

  /** `authoritative`: Redis's current fence (replaces ours); else a broadcast (taken when newer). */
  private adoptFence(text: string | null | undefined, authoritative: boolean): void {
    const f = parseFence(text);
    if (authoritative ? f.v !== this.fence.v || f.pos !== this.fence.pos : f.v > this.fence.v) this.fence = f;
  }

  /** The fence version now (the Keyv store records it on a miss, see RedisKeyvStore). */
  fenceVersion(): number {
    return this.fence.v;
  }

  private async nextGeneration(ns: string): Promise<number> {
    let gen = (this.generations.get(ns) ?? 0) + 1;
    if (this.l2Usable())
      try {
        gen = Math.max(
          gen,
          await withTimeout(this.l2.hincrby(this.gensKey, ns, 1), WRITE_TIMEOUT_MS, 'cache generation'),
        );
      } catch (err) {
        this.tripped(err); // this instance moves on; others expire their L1 by TTL
      }
    this.setGeneration(ns, gen);
    return gen;
  }

  private async broadcast(msg: {
    keys: string[];
    gens: Record<string, number>;
    fence: string;
  }): Promise<void> {
    if (!this.redis.isReady()) return;
    await withTimeout(
      this.redis.publish(CHANNEL, JSON.stringify(msg)),
      WRITE_TIMEOUT_MS,
      'cache broadcast',
    ).catch((err: Error) => this.logger.warn(`cache invalidation not broadcast: ${err.message}`));
  }

  /**
   * Deletes entries from L2: one DEL per shard (a DEL over keys of several slots is refused on a
   * Redis Cluster with CROSSSLOT), all shards at once. A failed group is counted
   * (shop_cache_l2_deletes_total{result="failed"}) and logged with what it left behind; its
   * entries are left to their TTL and, without GTIDs, to the delayed second delete.
   */
  private async deleteL2(keys: string[]): Promise<void> {
    if (!keys.length || !this.l2Usable()) return;
    const groups = new Map<number, string[]>();
    for (const k of keys) {
      const l2key = this.l2Key(this.l1Key(k.slice(0, k.indexOf(':')), k));
      const shard = this.shardOfL2Key(l2key);
      groups.set(shard, [...(groups.get(shard) ?? []), l2key]);
    }
    const results = await Promise.allSettled(
      [...groups.values()].map((group) =>
        withTimeout(this.l2.del(...group), WRITE_TIMEOUT_MS, 'cache delete'),
      ),
    );
    const failed: string[] = [];
    let firstError: Error | undefined;
    [...groups.values()].forEach((group, i) => {
      const r = results[i];
      if (r.status === 'fulfilled') return void this.deletes.inc({ result: 'deleted' }, group.length);
      this.deletes.inc({ result: 'failed' }, group.length);
      failed.push(...group);
      firstError ??= r.reason as Error;
    });
    if (firstError) {
      this.tripped(firstError);
      this.logger.warn(
        `L2 delete failed for ${failed.length} of ${keys.length} entries (${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', …' : ''}): ${firstError.message}`,
      );
    }
  }

  /** The Redis key of an L2 entry (`full` as in L1: `<ns>:g<gen>:<rest>`), in its shard's slot. */
  private l2Key(full: string): string {
    return this.redis.key('cache', `${this.shardTags[shardOf(full, this.shardTags.length)]}${full}`);
  }

  /** The shard an L2 key was built in (its tag follows `<prefix>:cache:`). */
  private shardOfL2Key(l2key: string): number {
    if (this.shardTags.length === 1) return 0;
    const m = /:cache:\{c(\d+)\}:/.exec(l2key);
    return m ? Number(m[1]) : 0;
  }

  private onBroadcast(msg: string): void {
    try {
      const m = JSON.parse(msg) as { keys?: string[]; gens?: Record<string, number>; fence?: string };
      if (m.fence) this.adoptFence(m.fence, false);
      for (const k of m.keys ?? []) this.dropLocal(k);
      for (const [ns, gen] of Object.entries(m.gens ?? {})) this.setGeneration(ns, gen);
    } catch {
      /* not ours */
    }
  }

  private dropLocal(key: string): void {
    const ns = key.slice(0, key.indexOf(':'));
    this.l1.delete(this.l1Key(ns, key));
    const now = Date.now();
    this.freshUntil.set(key, now + this.freshWindowMs);
    if (this.freshUntil.size > 10_000)
      for (const [k, t] of this.freshUntil) if (t <= now) this.freshUntil.delete(k);
  }

  private setGeneration(ns: string, gen: number): void {
    if (gen > (this.generations.get(ns) ?? 0)) this.generations.set(ns, gen);
  }

  // ---- the shared L2 for @nestjs/cache-manager (RedisKeyvStore) --------------------------------

  /** A value of namespace `ns` from Redis only (no L1: entries are shared by every instance as written). */
  sharedGet(ns: string, key: string): Promise<string | undefined> {
    return this.l2Get(this.l2Key(this.l1Key(ns, `${ns}:${key}`)));
  }

  /** Stores a value of an open namespace (budgeted, TTL ≤ OPEN_MAX_TTL_MS) unless the fence moved past `fenceV`. */
  sharedSet(ns: string, key: string, value: string, ttlMs: number, fenceV: number): void {
    this.store(this.l2Key(this.l1Key(ns, `${ns}:${key}`)), value, ttlMs, true, fenceV);
  }

  sharedDelete(ns: string, key: string): Promise<void> {
    return this.deleteL2([`${ns}:${key}`]);
  }

  /** Drops every entry of `ns` on every instance (a new generation). */
  async clearNamespace(ns: string): Promise<void> {
    const gen = await this.nextGeneration(ns);
    await this.broadcast({ keys: [], gens: { [ns]: gen }, fence: '' });
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.syncTimer);
    const pending = [...this.delayedDeletes];
    this.delayedDeletes.clear();
    for (const [timer] of pending) clearTimeout(timer);
    await Promise.all(pending.map(([, keys]) => this.deleteL2(keys)));
    if (this.ownL2) this.l2.disconnect();
  }
}
