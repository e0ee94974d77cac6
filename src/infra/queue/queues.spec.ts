// Bull's own backoff calculation (what a failing job's retry delay is computed with).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const backoffs = require('bull/lib/backoffs') as {
  calculate: (
    backoff: unknown,
    attemptsMade: number,
    strategies: object,
    err: Error,
    options: unknown,
  ) => number;
};
import {
  DEFAULT_JOB_OPTIONS,
  OWED_JOB_ATTEMPTS,
  QUEUES,
  backoffStrategies,
  isOwed,
  queueJobOptions,
} from './queues';

const delays = (name: (typeof QUEUES)[keyof typeof QUEUES], attempts: number[], maxDelayMs = 60_000) => {
  const { backoff } = queueJobOptions(name) as { backoff: { options?: unknown } };
  return attempts.map((n) =>
    backoffs.calculate(backoff, n, backoffStrategies(maxDelayMs), new Error('x'), backoff.options),
  );
};

describe('queue job options (one place)', () => {
  const owed = [QUEUES.audit, QUEUES.email, QUEUES.outbox, QUEUES.orders, QUEUES.flashSale, QUEUES.payments];

  it('every queue whose jobs carry a business effect keeps its failed jobs as dead letters, retried at a capped pace first', () => {
    for (const q of owed) {
      const o = queueJobOptions(q);
      expect({ q, attempts: o.attempts, removeOnFail: o.removeOnFail }).toEqual({
        q,
        attempts: OWED_JOB_ATTEMPTS,
        removeOnFail: false,
      });
      expect(o.removeOnComplete).toEqual(DEFAULT_JOB_OPTIONS.removeOnComplete);
      expect(isOwed(o)).toBe(true);
      expect(delays(q, [1, 2, 3, 6, 7, 24])).toEqual([1000, 2000, 4000, 32000, 60000, 60000]);
    }
    // About 20 minutes of retries before the first dead letter (at the default 60 s cap).
    const total = delays(
      QUEUES.outbox,
      Array.from({ length: OWED_JOB_ATTEMPTS - 1 }, (_, i) => i + 1),
    ).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(15 * 60_000);
  });

  it('the cap comes from QUEUE_RETRY_MAX_DELAY_MS', () => {
    expect(delays(QUEUES.email, [1, 3, 4, 10], 5000)).toEqual([1000, 4000, 5000, 5000]);
  });

  it('repeatable runs and jobs with their own removeOnFail are not owed; queues without owed jobs keep the defaults', () => {
    expect(isOwed({ ...queueJobOptions(QUEUES.orders), repeat: { every: 1000 } })).toBe(false);
    expect(isOwed({ ...queueJobOptions(QUEUES.payments), removeOnFail: true })).toBe(false);
    expect(queueJobOptions(QUEUES.users)).toEqual(DEFAULT_JOB_OPTIONS);
    expect(isOwed(queueJobOptions(QUEUES.users))).toBe(false);
  });
});
