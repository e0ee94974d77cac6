import { Global, Module } from '@nestjs/common';
import { CacheModule as NestCacheModule } from '@nestjs/cache-manager';
import Keyv from 'keyv';
import { FencedReads } from './fenced-reads';
import { RedisKeyvStore } from './redis-keyv-store';
import { TwoLevelCache } from './two-level-cache.service';

/** TTL of a `CACHE_MANAGER` / CacheInterceptor entry when none is given (`@CacheTTL`, `set(k, v, ttl)`). */
export const HTTP_CACHE_DEFAULT_TTL_MS = 5000;

/** The two-level cache and the fenced reads behind it. */
@Module({ providers: [TwoLevelCache, FencedReads], exports: [TwoLevelCache] })
export class TwoLevelCacheModule {}

/**
 * Caching for every module, registered once (InfraModule imports it; it is global):
 * - `TwoLevelCache`, the catalog's hot-path cache (L1 in process, L2 Redis);
 * - `@nestjs/cache-manager`'s `CACHE_MANAGER`, `CacheInterceptor` (use HttpCacheInterceptor),
 *   `@CacheKey`, `@CacheTTL`, backed by a Keyv store over TwoLevelCache's Redis tier
 *   (RedisKeyvStore: same connection, same REDIS_PREFIX key scheme, same budget, same
 *   invalidation). Decisions 0003 and 0015.
 */
@Global()
@Module({
  imports: [
    TwoLevelCacheModule,
    NestCacheModule.registerAsync({
      isGlobal: true,
      imports: [TwoLevelCacheModule],
      inject: [TwoLevelCache],
      useFactory: (cache: TwoLevelCache) => ({
        stores: [new Keyv({ store: new RedisKeyvStore(cache), namespace: undefined, useKeyPrefix: false })],
        ttl: HTTP_CACHE_DEFAULT_TTL_MS,
      }),
    }),
  ],
  exports: [TwoLevelCacheModule],
})
export class CacheModule {}
