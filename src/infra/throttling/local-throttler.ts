import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { LRUCache } from 'lru-cache';

interface Counter {
  hits: number;
  windowEnds: number;
  blockedUntil: number;
}

/**
 * The same counting as {@link RedisThrottlerStorage}, in this process only: the fallback while
 * Redis is unreachable, so a limit degrades to "per instance" instead of "off". Bounded (LRU):
 * under a flood of distinct keys the oldest counters are forgotten first.
 */
export class LocalThrottler {
  private readonly counters: LRUCache<string, Counter>;

  constructor(max = 50_000) {
    this.counters = new LRUCache({ max });
  }

  increment(key: string, ttlMs: number, limit: number, blockMs: number): ThrottlerStorageRecord {
    const now = Date.now();
    let c = this.counters.get(key);
    if (c && c.blockedUntil > now) return record(c.hits, c.windowEnds - now, true, c.blockedUntil - now);
    if (!c || c.windowEnds <= now) c = { hits: 0, windowEnds: now + ttlMs, blockedUntil: 0 };
    c.hits++;
    if (c.hits > limit) c.blockedUntil = now + (blockMs || ttlMs);
    this.counters.set(key, c);
    return record(c.hits, c.windowEnds - now, c.blockedUntil > now, Math.max(0, c.blockedUntil - now));
  }

  reset(key: string): void {
    this.counters.delete(key);
  }

  /** Gives one hit back (an attempt that turned out fine); never below zero, never lifts a block. */
  release(key: string): void {
    const c = this.counters.get(key);
    if (c && c.hits > 0) c.hits--;
  }
}

const record = (hits: number, ttlMs: number, blocked: boolean, blockMs: number): ThrottlerStorageRecord => ({
  totalHits: hits,
  timeToExpire: Math.max(0, Math.ceil(ttlMs / 1000)),
  isBlocked: blocked,
  timeToBlockExpire: Math.max(0, Math.ceil(blockMs / 1000)),
});
