import { BullModule } from '@nestjs/bull';
import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { clusterNodesFromUrl } from '../redis/redis-url';
import { RedisService } from '../redis/redis.service';
import { DEFAULT_JOB_OPTIONS, backoffStrategies } from './queues';
import { DeadLetters } from './dead-letters.service';
import { QueueHealth } from './queue-health.service';
import { QueueMetrics } from './queue-metrics';
import { WorkerRegistry } from './worker-registry.service';

/**
 * Bull's Redis connection and defaults. Owning modules register their queue with
 * `BullModule.registerQueue({ name: QUEUES.x })` and attach handlers through WorkerRegistry.
 * The prefix carries REDIS_PREFIX; wrap it in braces (e.g. `{nc}`) on Redis Cluster.
 */
/** Bull's Cluster clients per app instance (Bull closes only clients it created itself). */
const clusterClients = new WeakMap<AppConfig, Set<Redis>>();

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // Bull opens its own connections (client, subscriber, blocking client); on a Redis
        // Cluster they are Cluster clients (Bull needs the hash-tagged prefix checked at boot).
        ...(clusterNodesFromUrl(config.redis.url)
          ? {
              createClient: (type: 'client' | 'subscriber' | 'bclient') => {
                const c = RedisService.createClient(
                  config.redis.url,
                  type === 'client' ? {} : { maxRetriesPerRequest: null, enableReadyCheck: false },
                );
                const mine = clusterClients.get(config) ?? new Set<Redis>();
                clusterClients.set(config, mine.add(c));
                return c;
              },
            }
          : { redis: RedisService.connectionOptions(config.redis.url) }),
        prefix: `${config.redis.prefix}:bull`,
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
        settings: {
          stalledInterval: 15000,
          maxStalledCount: 2,
          backoffStrategies: backoffStrategies(config.queues.retryMaxDelayMs),
        },
      }),
    }),
  ],
  providers: [WorkerRegistry, QueueHealth, QueueMetrics, DeadLetters],
  exports: [WorkerRegistry, QueueHealth, QueueMetrics, BullModule],
})
export class QueueModule implements OnApplicationShutdown {
  constructor(private readonly config: AppConfig) {}

  onApplicationShutdown(): void {
    for (const c of clusterClients.get(this.config) ?? []) c.disconnect();
    clusterClients.delete(this.config);
  }
}
