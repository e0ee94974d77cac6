import { Module } from '@nestjs/common';
import { TwoLevelCache } from './two-level-cache.service';

/** The generic two-level cache (see TwoLevelCache); import it where a module caches reads. */
@Module({ providers: [TwoLevelCache], exports: [TwoLevelCache] })
export class CacheModule {}
