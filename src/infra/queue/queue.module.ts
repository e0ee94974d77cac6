import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DEFAULT_JOB_OPTIONS } from './queues';
import { QueueHealth } from './queue-health.service';
import { QueueMetrics } from './queue-metrics';
import { WorkerRegistry } from './worker-registry.service';

/**
 * Bull's Redis connection and defaults. Owning modules register their queue with
 * `BullModule.registerQueue({ name: QUEUES.x })` and attach handlers through WorkerRegistry.
 * The prefix carries REDIS_PREFIX; wrap it in braces (e.g. `{nc}`) on Redis Cluster.
 */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        url: config.redis.url,
        prefix: `${config.redis.prefix}:bull`,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
        settings: { stalledInterval: 15000, maxStalledCount: 2 },
      }),
    }),
  ],
  providers: [WorkerRegistry, QueueHealth, QueueMetrics],
  exports: [WorkerRegistry, QueueHealth, BullModule],
})
export class QueueModule {}
