import { Module } from '@nestjs/common';
import { FencedReads } from './fenced-reads';
import { TwoLevelCache } from './two-level-cache.service';

/** The generic two-level cache (see TwoLevelCache); import it where a module caches reads. */
@Module({ providers: [TwoLevelCache, FencedReads], exports: [TwoLevelCache] })
export class CacheModule {}
