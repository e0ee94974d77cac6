import type { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Counter } from 'prom-client';
import { withTimeout } from '../../common/with-timeout';
import { parseFence } from './cache-redis';

/**
 * On a Redis Cluster the L2 entries are spread over this many hash tags (`{c0}` … `{c15}`, the
 * shard is a hash of the entry's key), each with its own copy of the fence and its own share of
 * the open-key budget: the store script checks the fence and the budget atomically with the
 * write, so they must live in the entry's slot. Decision 0025. One Redis has one shard (the key
 * names of before).
 */
export const CLUSTER_CACHE_SHARDS = 16;

/** The shard of an entry: FNV-1a of its key, modulo the shard count. */
export function shardOf(key: string, shards: number): number {
  if (shards === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}

/** The fence with the highest version among the shards' copies (null when none is set). */
export function newestFence(texts: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const t of texts) if (t && (best === null || parseFence(t).v > parseFence(best).v)) best = t;
  return best;
}

/**
 * The cache's key layout in Redis, per shard (decision 0025): the Redis key of an L2 entry, the
 * fence copy and budget key of its slot, each shard's share of the open-key allowance, and the
 * DEL of several entries grouped by shard. One Redis is one shard with the key names of before.
 */
export class CacheShards {
  /** The tag of each shard's keys (`{c<n>}:` on a cluster, '' on one Redis). */
  readonly tags: string[];
  /** Per shard: the fence copy and the open-key budget of its slot. */
  readonly fenceKeys: string[];
  readonly budgetKeys: string[];
  /** Open-key bytes one shard may take per window (the allowance split over the shards). */
  readonly allowance: number;

  /** `key`: builds `<prefix>:<parts…>` (RedisService.key). */
  constructor(
    private readonly key: (...parts: string[]) => string,
    count: number,
    windowAllowance: number,
  ) {
    this.tags = Array.from({ length: count }, (_, i) => (count > 1 ? `{c${i}}:` : ''));
    this.allowance = Math.floor(windowAllowance / count);
    this.fenceKeys = this.tags.map((tag) => key('cache', `${tag}fence`));
    this.budgetKeys = this.tags.map((tag) => key('cache', `${tag}budget`));
  }

  /** The Redis key of an L2 entry (`full` as in L1: `<ns>:g<gen>:<rest>`), in its shard's slot. */
  l2Key(full: string): string {
    return this.key('cache', `${this.tags[shardOf(full, this.tags.length)]}${full}`);
  }

  /** The shard an L2 key was built in (its tag follows `<prefix>:cache:`). */
  shardOfL2Key(l2key: string): number {
    if (this.tags.length === 1) return 0;
    const m = /:cache:\{c(\d+)\}:/.exec(l2key);
    return m ? Number(m[1]) : 0;
  }

  /**
   * Deletes L2 entries: one DEL per shard (a DEL over keys of several slots is refused on a
   * Redis Cluster with CROSSSLOT), all shards at once. A failed group is counted
   * (shop_cache_l2_deletes_total{result="failed"}) and logged with what it left behind; its
   * entries are left to their TTL and, without GTIDs, to the delayed second delete. Resolves to
   * the first error (for the caller's breaker), never rejects.
   */
  async del(
    l2: Redis,
    l2keys: string[],
    timeoutMs: number,
    deletes: Counter<string>,
    logger: Logger,
  ): Promise<Error | undefined> {
    const groups = new Map<number, string[]>();
    for (const l2key of l2keys) {
      const shard = this.shardOfL2Key(l2key);
      groups.set(shard, [...(groups.get(shard) ?? []), l2key]);
    }
    const results = await Promise.allSettled(
      [...groups.values()].map((group) => withTimeout(l2.del(...group), timeoutMs, 'cache delete')),
    );
    const failed: string[] = [];
    let firstError: Error | undefined;
    [...groups.values()].forEach((group, i) => {
      const r = results[i];
      if (r.status === 'fulfilled') return void deletes.inc({ result: 'deleted' }, group.length);
      deletes.inc({ result: 'failed' }, group.length);
      failed.push(...group);
      firstError ??= r.reason as Error;
    });
    if (firstError)
      logger.warn(
        `L2 delete failed for ${failed.length} of ${l2keys.length} entries (${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', …' : ''}): ${firstError.message}`,
      );
    return firstError;
  }
}
