import type { MetricsService } from '../observability/metrics.service';

/** The cache's metric families (TwoLevelCache and its invalidation), registered once per registry. */
export function cacheMetrics(metrics: MetricsService) {
  return {
    hits: metrics.counter('shop_cache_hits_total', 'Cache hits by tier', ['tier']),
    misses: metrics.counter('shop_cache_misses_total', 'Cache misses by tier', ['tier']),
    loads: metrics.counter(
      'shop_cache_loads_total',
      'Loads from the source of truth after both tiers missed',
      ['namespace'],
    ),
    writes: metrics.counter(
      'shop_cache_l2_writes_total',
      'Cache writes to Redis by result: stored, over_budget (open-key budget spent), too_large, stale (a write moved the fence during the fill), failed',
      ['result'],
    ),
    budgetUsed: metrics.gauge(
      'shop_cache_l2_budget_bytes',
      'Open-key cache budget in Redis: limit (CACHE_REDIS_BUDGET_MB), window_allowance and window_used (bytes written in the current window, as last seen)',
      ['kind'],
    ),
    deletes: metrics.counter(
      'shop_cache_l2_deletes_total',
      'Cache entries deleted from Redis after a write, by result: deleted, failed (left to their TTL and the delayed second delete)',
      ['result'],
    ),
  };
}

/** Freezes a parsed cache value and everything in it: one copy is handed to every reader. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}
