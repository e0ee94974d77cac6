import { Global, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { RedisService } from '../redis/redis.service';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/**
 * `@nestjs/throttler` backed by Redis ({@link RedisThrottlerStorage}, also injectable as
 * `ThrottlerStorage`). Nothing is throttled globally: a route opts in with
 * `@UseGuards(ThrottlerGuard)` (or a subclass) so benchmarks and clients behind one IP are not
 * limited on routes that do not need it. The `default` throttler below applies to routes that
 * opt in without their own `@Throttle(...)`.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [RedisService],
      useFactory: (redis: RedisService) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: 60 }],
        storage: new RedisThrottlerStorage(redis),
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class ThrottlingModule {}
