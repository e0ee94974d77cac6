import type { BackoffOptions, JobOptions } from 'bull';

/** Every Bull queue of the application, named in one place. */
export const QUEUES = {
  audit: 'audit',
  email: 'email',
  orders: 'orders',
  outbox: 'outbox',
  flashSale: 'flash-sale',
  payments: 'payments',
  /** Account housekeeping (the refresh-token purge). */
  users: 'users',
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

/**
 * Custom backoff strategies, registered on every queue (BullModule root `settings`).
 * `capped-exponential`: 2^(attempt-1) × delay like Bull's `exponential`, but never longer than
 * `options.maxDelay`, so a job with many attempts keeps retrying at a steady pace through a long
 * outage instead of waiting hours between the last attempts.
 */
export const BACKOFF_STRATEGIES = {
  'capped-exponential': (attemptsMade: number, _err: Error, options: { delay: number; maxDelay: number }) =>
    Math.min(options.maxDelay, Math.round(2 ** Math.max(0, attemptsMade - 1) * options.delay)),
};

const cappedExponential = (delay: number, maxDelay: number): BackoffOptions =>
  ({ type: 'capped-exponential', options: { delay, maxDelay } }) as BackoffOptions;

/**
 * Per-queue job options on top of {@link DEFAULT_JOB_OPTIONS}, applied as the queue's own
 * `defaultJobOptions` by the module that registers it ({@link queueJobOptions}). Producers pass
 * only what is per job (jobId, delay). Not here yet: the payments and order-expiry producers
 * still set their own attempts/backoff at the call site.
 */
const QUEUE_JOB_OPTIONS: Partial<Record<QueueName, JobOptions>> = {
  /**
   * A login audit row must survive a long MySQL outage: 200 attempts, backoff 1 s doubling up to
   * 1 min (about 3 hours in all), and failed jobs are never trimmed (inspect or retry them in Bull
   * Board; shop_queue_jobs{queue="audit",state="failed"} is the alarm).
   */
  audit: { attempts: 200, backoff: cappedExponential(1000, 60_000), removeOnFail: false },
  /**
   * Mail: exponential backoff from 2 s over 10 attempts (about 17 minutes), so an SMTP outage of
   * minutes delays mail without losing it; failed jobs kept per the defaults.
   */
  email: { attempts: 10, backoff: { type: 'exponential', delay: 2000 } },
};

/** The queue-level default job options of `name` (pass as `defaultJobOptions` to registerQueue). */
export function queueJobOptions(name: QueueName): JobOptions {
  return { ...DEFAULT_JOB_OPTIONS, ...QUEUE_JOB_OPTIONS[name] };
}
