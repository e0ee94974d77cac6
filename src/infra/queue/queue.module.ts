import { BullModule } from '@nestjs/bull';
import { Global, Module, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';
import './bull-job-parse';
import { DEFAULT_JOB_OPTIONS, backoffStrategies } from './queues';
import { DeadLetters } from './dead-letters.service';
import { QueueHealth } from './queue-health.service';
import { QueueMetrics } from './queue-metrics';
import { WorkerRegistry } from './worker-registry.service';

/**
 * Bull's Redis connection and defaults. Owning modules register their queue with
 * `registerQueues(QUEUES.x)` (register-queues.ts: job defaults, and on a Redis Cluster a prefix
 * with the queue's own hash tag) and attach handlers through WorkerRegistry.
 */
/** Bull's clients per app instance (Bull closes only clients it created itself; these are closed below). */
const ownClients = new WeakMap<AppConfig, Set<Redis>>();

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // Bull opens three connections per queue: `client` (producers' adds and every other
        // non-blocking command), `subscriber` and the blocking `bclient` (workers' BRPOPLPUSH).
        // `client` gets the command bounds of decision 0014, so a queue.add against a Redis that
        // does not answer fails within REDIS_COMMAND_TIMEOUT_MS; the other two must wait. On a
        // Redis Cluster they are Cluster clients (each queue's prefix carries its own hash tag).
        createClient: (type: 'client' | 'subscriber' | 'bclient') => {
          const c = RedisService.createClient(
            config.redis.url,
            type === 'client'
              ? RedisService.commandBounds(config.redis.commandTimeoutMs)
              : { maxRetriesPerRequest: null, enableReadyCheck: false },
          );
          const mine = ownClients.get(config) ?? new Set<Redis>();
          ownClients.set(config, mine.add(c));
          return c;
        },
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
    for (const c of ownClients.get(this.config) ?? []) c.disconnect();
    ownClients.delete(this.config);
  }
}
