import type { JobOptions } from 'bull';

/** Every Bull queue of the application, named in one place. */
export const QUEUES = {
  audit: 'audit',
  email: 'email',
  orders: 'orders',
  outbox: 'outbox',
  flashSale: 'flash-sale',
  payments: 'payments',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Default job options, in one place. Finished jobs are trimmed so Redis memory stays bounded
 * (completed: last 1000 or 1 h; failed: last 5000 or 7 days, kept for inspection in Bull Board).
 */
export const DEFAULT_JOB_OPTIONS: JobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 1000, age: 3600 },
  removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
};
