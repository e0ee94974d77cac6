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
 * Custom backoff strategies, registered on every queue (BullModule root `settings`, see
 * {@link backoffStrategies}).
 * `capped-exponential`: 2^(attempt-1) × delay like Bull's `exponential`, but never longer than
 * `options.maxDelay` (default: QUEUE_RETRY_MAX_DELAY_MS), so a job keeps retrying at a steady pace
 * through a long outage instead of waiting hours between its last attempts.
 */
export function backoffStrategies(defaultMaxDelayMs: number) {
  return {
    'capped-exponential': (
      attemptsMade: number,
      _err: Error,
      options: { delay: number; maxDelay?: number },
    ) =>
      Math.min(
        options.maxDelay ?? defaultMaxDelayMs,
        Math.round(2 ** Math.max(0, attemptsMade - 1) * options.delay),
      ),
  };
}

const cappedExponential = (delay: number, maxDelay?: number): BackoffOptions =>
  ({ type: 'capped-exponential', options: { delay, ...(maxDelay ? { maxDelay } : {}) } }) as BackoffOptions;

/**
 * How many attempts an owed job gets before it becomes a dead letter: 1 s doubling up to
 * QUEUE_RETRY_MAX_DELAY_MS (60 s by default), 25 attempts — about 20 minutes.
 */
export const OWED_JOB_ATTEMPTS = 25;

/**
 * The options of a job whose loss would lose a business effect (a mail, an audit row, an order
 * event, an expiry, a refund, the close of a flash sale). It is retried with a capped backoff;
 * when its attempts are spent it is not trimmed but stays in the queue's failed set: a **dead
 * letter**, counted (`shop_queue_dead_letters_total`, `shop_queue_jobs{state="failed"}`), logged,
 * and re-driven one attempt at a time every QUEUE_REDRIVE_INTERVAL_MS by DeadLetters until it
 * succeeds (or is given up after DEAD_LETTER_RETENTION_HOURS). Handlers of such jobs are idempotent.
 * See docs/decisions/0020-no-event-dropped.md.
 */
export const OWED_JOB_OPTIONS: JobOptions = {
  attempts: OWED_JOB_ATTEMPTS,
  backoff: cappedExponential(1000),
  removeOnFail: false,
};

/**
 * Whether a failed job is a dead letter (owed, to be re-driven) rather than a failure the queue
 * may forget: jobs with the owed policy keep their failures (`removeOnFail: false`); repeatable
 * jobs never are (their next run does the work) and neither are jobs that set their own
 * `removeOnFail` (the sandbox PSP's webhook deliveries, which give up like a real PSP).
 */
export function isOwed(opts: JobOptions | undefined): boolean {
  return !!opts && opts.removeOnFail === false && !opts.repeat;
}

/**
 * Per-queue job options on top of {@link DEFAULT_JOB_OPTIONS}, applied as the queue's own
 * `defaultJobOptions` by the module that registers it ({@link queueJobOptions}). Producers pass
 * only what is per job (jobId, delay); jobs that are not owed on an owed queue (repeatable jobs,
 * the sandbox's deliveries) set their own `removeOnFail`.
 */
const QUEUE_JOB_OPTIONS: Partial<Record<QueueName, JobOptions>> = {
  /** Login audit rows (written directly when the queue is unreachable). */
  [QUEUES.audit]: OWED_JOB_OPTIONS,
  /** Mail: an SMTP outage delays mail without losing it (the "sent" marker dedupes re-drives). */
  [QUEUES.email]: OWED_JOB_OPTIONS,
  /** Order events: the outbox row also stays owed in MySQL until its handlers succeeded. */
  [QUEUES.outbox]: OWED_JOB_OPTIONS,
  /** `expire` (the payment window of an order). */
  [QUEUES.orders]: OWED_JOB_OPTIONS,
  /** `close` (the end of a sale: unsold units back to inventory). */
  [QUEUES.flashSale]: OWED_JOB_OPTIONS,
  /** `complete-refund` (a refund the PSP did not take at once). */
  [QUEUES.payments]: OWED_JOB_OPTIONS,
};

/** The queue-level default job options of `name` (pass as `defaultJobOptions` to registerQueue). */
export function queueJobOptions(name: QueueName): JobOptions {
  return { ...DEFAULT_JOB_OPTIONS, ...QUEUE_JOB_OPTIONS[name] };
}
