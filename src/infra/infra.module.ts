import { Global, Module } from '@nestjs/common';
import { CacheModule } from './cache/cache.module';
import { DatabaseModule } from './database/database.module';
import { EdgeRoutes } from './http/edge-routes';
import { Lifecycle } from './lifecycle.service';
import { AppLoggerModule } from './observability/logger.module';
import { InfraMetrics } from './observability/infra-metrics';
import { MetricsService } from './observability/metrics.service';
import { AccessLog } from './observability/access-log';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';
import { ThrottlingModule } from './throttling/throttling.module';

/** Shared infrastructure every domain module may use: database routing, Redis, queues, caching, metrics. */
@Global()
@Module({
  imports: [AppLoggerModule, DatabaseModule, RedisModule, QueueModule, ThrottlingModule, CacheModule],
  providers: [Lifecycle, MetricsService, InfraMetrics, EdgeRoutes, AccessLog],
  exports: [
    Lifecycle,
    MetricsService,
    AccessLog,
    EdgeRoutes,
    DatabaseModule,
    RedisModule,
    QueueModule,
    ThrottlingModule,
    CacheModule,
  ],
})
export class InfraModule {}
