import { BullModule, getQueueToken } from '@nestjs/bull';
import type { DynamicModule } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import { AppConfig } from '../config/app-config';
import { QueueName, queueJobOptions } from './queues';

/**
 * Bull's key prefix of one queue. Bull's keys are `<prefix>:<queue>:<suffix>` and its Lua scripts
 * touch several of them at once, so on a Redis Cluster each queue's prefix carries a hash tag of
 * its own (`<REDIS_PREFIX>:bull:{<queue>}`): one queue's keys share a slot, different queues land
 * in different slots (and, with several masters, mostly on different masters). One Redis keeps
 * the untagged `<REDIS_PREFIX>:bull`, the names queued jobs and dead letters already live under.
 * Decision 0025.
 */
export function queuePrefix(config: Pick<AppConfig, 'redis'>, name: QueueName | string): string {
  return config.redis.cluster ? `${config.redis.prefix}:bull:{${name}}` : `${config.redis.prefix}:bull`;
}

/**
 * Registers the application's queues with their job defaults ({@link queueJobOptions}) and
 * their key prefix ({@link queuePrefix}); Redis connections and settings come from QueueModule.
 */
export function registerQueues(...names: QueueName[]): DynamicModule {
  return BullModule.registerQueueAsync(
    ...names.map((name) => ({
      name,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        prefix: queuePrefix(config, name),
        defaultJobOptions: queueJobOptions(name),
      }),
    })),
  );
}

/**
 * The queue `name` as the module that registered it holds it (one module registers each queue),
 * looked up from anywhere as @nestjs/bull's own processor explorer does. Providers are all
 * instantiated before any onModuleInit, so from there on the queue exists; a name no module
 * registered throws.
 */
export function registeredQueue<T = unknown>(moduleRef: ModuleRef, name: QueueName): Queue<T> {
  return moduleRef.get<Queue<T>>(getQueueToken(name), { strict: false });
}
