import type { Logger } from '@nestjs/common';
import type { LRUCache } from 'lru-cache';
import type { Counter } from 'prom-client';
import { withTimeout } from '../../common/with-timeout';
import { RedisService } from '../redis/redis.service';
import { Fence, L2Breaker, ScriptedRedis, parseFence } from './cache-redis';
import { CacheShards, newestFence } from './cache-shards';
import { FencedReads } from './fenced-reads';

export const CHANNEL = 'cache-invalidate';
/** Writes, invalidations and fence updates wait this long for Redis. */
export const WRITE_TIMEOUT_MS = 1000;

/**
 * The invalidation side of TwoLevelCache (decision 0015): the fence, the namespaces' generations,
 * the keys written lately (read from the primary without GTIDs), what a write does to them
 * (afterWrite: fence, L2 delete, new generations, broadcast), what a broadcast does to this
 * instance, and the periodic re-sync from Redis. Holds no entries: it drops them from the L1 it
 * is given and from L2 through the shards.
 */
export class CacheInvalidation {
  private readonly generations = new Map<string, number>();
  private readonly freshUntil = new Map<string, number>();
  /** Second deletes not yet run (see afterWrite); flushed at shutdown while Redis is still connected. */
  private readonly delayedDeletes = new Map<NodeJS.Timeout, string[]>();
  private current: Fence = { v: 0, pos: '' };
  /** Told the keys of every broadcast this instance receives (its own included). */
  readonly keyListeners: ((keys: readonly string[]) => void)[] = [];
  private readonly fenceSeqKey: string;
  private readonly gensKey: string;

  constructor(
    private readonly redis: RedisService,
    private readonly l2: ScriptedRedis,
    private readonly breaker: L2Breaker,
    private readonly shards: CacheShards,
    private readonly fenced: FencedReads,
    private readonly l1: LRUCache<string, string>,
    private readonly deletes: Counter<string>,
    private readonly logger: Logger,
    readonly freshWindowMs: number,
  ) {
    this.fenceSeqKey = redis.key('cache', 'fence-seq');
    this.gensKey = redis.key('cache', 'gens');
  }

  /** The fence reads must not fall behind (the last write's version and replication position). */
  get fence(): Fence {
    return this.current;
  }

  generation(ns: string): number {
    return this.generations.get(ns) ?? 0;
  }

  /** Until when `key` is read from the primary (written lately, no GTIDs), if it was written lately. */
  freshUntilOf(key: string): number | undefined {
    return this.freshUntil.get(key);
  }

  /** The L1 key of `key` (`<ns>:<rest>`): `<ns>:g<generation>:<rest>`. */
  l1Key(ns: string, key: string): string {
    return `${ns}:g${this.generation(ns)}:${key.slice(ns.length + 1)}`;
  }

  /** See TwoLevelCache.sync. */
  async sync(logFailure: boolean): Promise<void> {
    if (!this.breaker.usable()) return;
    try {
      const [gens, ...fences] = await withTimeout(
        Promise.all([this.l2.hgetall(this.gensKey), ...this.shards.fenceKeys.map((k) => this.l2.get(k))]),
        WRITE_TIMEOUT_MS,
        'cache sync',
      );
      for (const [ns, gen] of Object.entries(gens)) this.setGeneration(ns, Number(gen));
      this.adoptFence(newestFence(fences), true);
    } catch (err) {
      this.breaker.tripped(err);
      if (logFailure) this.logger.warn(`cache generations not loaded: ${(err as Error).message}`);
    }
  }

  /** See TwoLevelCache.afterWrite. */
  async afterWrite(change: { keys?: string[]; namespaces?: string[] }): Promise<void> {
    const keys = change.keys ?? [];
    await this.advanceFence();
    for (const k of keys) this.dropLocal(k);
    await this.deleteL2(keys);
    const gens: Record<string, number> = {};
    for (const ns of change.namespaces ?? []) gens[ns] = await this.nextGeneration(ns);
    await this.broadcast({ keys, gens, fence: `${this.current.v}|${this.current.pos}` });
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
    if (this.breaker.usable())
      v = await withTimeout(this.l2.incr(this.fenceSeqKey), WRITE_TIMEOUT_MS, 'cache fence').catch(
        (err: unknown) => void this.breaker.tripped(err),
      );
    let pos: string;
    try {
      pos = await this.fenced.primaryPosition();
    } catch (err) {
      this.logger.warn(`fence not moved, primary position unreadable: ${(err as Error).message}`);
      return;
    }
    if (v === undefined) {
      this.current = { v: this.current.v, pos }; // Redis away: this instance at least reads past its own write
      return;
    }
    // Every shard's copy moves before the written keys are deleted (afterWrite), so a fill that
    // read under the old version is refused by its shard's script or deleted afterwards.
    const now = await withTimeout(
      Promise.all(this.shards.fenceKeys.map((k) => this.l2.ncCacheFence(k, v, pos))),
      WRITE_TIMEOUT_MS,
      'cache fence',
    ).catch((err: unknown) => void this.breaker.tripped(err));
    this.adoptFence(now ? newestFence(now) : `${v}|${pos}`, now !== undefined);
  }

  /** `authoritative`: Redis's current fence (replaces ours); else a broadcast (taken when newer). */
  adoptFence(text: string | null | undefined, authoritative: boolean): void {
    const f = parseFence(text);
    if (authoritative ? f.v !== this.current.v || f.pos !== this.current.pos : f.v > this.current.v)
      this.current = f;
  }

  async nextGeneration(ns: string): Promise<number> {
    let gen = this.generation(ns) + 1;
    if (this.breaker.usable())
      try {
        gen = Math.max(
          gen,
          await withTimeout(this.l2.hincrby(this.gensKey, ns, 1), WRITE_TIMEOUT_MS, 'cache generation'),
        );
      } catch (err) {
        this.breaker.tripped(err); // this instance moves on; others expire their L1 by TTL
      }
    this.setGeneration(ns, gen);
    return gen;
  }

  async broadcast(msg: { keys: string[]; gens: Record<string, number>; fence: string }): Promise<void> {
    if (!this.redis.isReady()) return;
    await withTimeout(
      this.redis.publish(CHANNEL, JSON.stringify(msg)),
      WRITE_TIMEOUT_MS,
      'cache broadcast',
    ).catch((err: Error) => this.logger.warn(`cache invalidation not broadcast: ${err.message}`));
  }

  /** Deletes entries (`<ns>:<rest>`, current generation) from L2, one DEL per shard (CacheShards.del). */
  async deleteL2(keys: string[]): Promise<void> {
    if (!keys.length || !this.breaker.usable()) return;
    const l2keys = keys.map((k) => this.shards.l2Key(this.l1Key(k.slice(0, k.indexOf(':')), k)));
    const err = await this.shards.del(this.l2, l2keys, WRITE_TIMEOUT_MS, this.deletes, this.logger);
    if (err) this.breaker.tripped(err);
  }

  onBroadcast(msg: string): void {
    try {
      const m = JSON.parse(msg) as { keys?: string[]; gens?: Record<string, number>; fence?: string };
      if (m.fence) this.adoptFence(m.fence, false);
      for (const k of m.keys ?? []) this.dropLocal(k);
      for (const [ns, gen] of Object.entries(m.gens ?? {})) this.setGeneration(ns, gen);
      if (m.keys?.length) for (const l of this.keyListeners) l(m.keys);
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
    if (gen > this.generation(ns)) this.generations.set(ns, gen);
  }

  /** Cancels the pending second deletes and runs them now (shutdown, while Redis is still connected). */
  async flushDelayedDeletes(): Promise<void> {
    const pending = [...this.delayedDeletes];
    this.delayedDeletes.clear();
    for (const [timer] of pending) clearTimeout(timer);
    await Promise.all(pending.map(([, keys]) => this.deleteL2(keys)));
  }
}
