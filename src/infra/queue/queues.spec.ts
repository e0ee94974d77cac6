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
import { BACKOFF_STRATEGIES, DEFAULT_JOB_OPTIONS, QUEUES, queueJobOptions } from './queues';

const delays = (name: (typeof QUEUES)[keyof typeof QUEUES], attempts: number[]) => {
  const { backoff } = queueJobOptions(name) as { backoff: { options?: unknown } };
  return attempts.map((n) =>
    backoffs.calculate(backoff, n, BACKOFF_STRATEGIES, new Error('x'), backoff.options),
  );
};

describe('queue job options (one place)', () => {
  it('audit jobs retry for hours at a capped pace and are never trimmed once failed', () => {
    const audit = queueJobOptions(QUEUES.audit);
    expect(audit.attempts).toBeGreaterThanOrEqual(100);
    expect(audit.removeOnFail).toBe(false);
    expect(audit.removeOnComplete).toEqual(DEFAULT_JOB_OPTIONS.removeOnComplete);
    expect(delays(QUEUES.audit, [1, 2, 3, 6, 7, 50, 199])).toEqual([
      1000, 2000, 4000, 32000, 60000, 60000, 60000,
    ]);
    const total = delays(
      QUEUES.audit,
      Array.from({ length: audit.attempts! - 1 }, (_, i) => i + 1),
    ).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(3 * 3600 * 1000);
  });

  it('mail keeps 10 attempts with exponential backoff from 2 s; queues without their own options get the defaults', () => {
    expect(queueJobOptions(QUEUES.email)).toMatchObject({
      attempts: 10,
      removeOnFail: DEFAULT_JOB_OPTIONS.removeOnFail,
    });
    expect(delays(QUEUES.email, [1, 2, 3])).toEqual([2000, 6000, 14000]);
    expect(queueJobOptions(QUEUES.flashSale)).toEqual(DEFAULT_JOB_OPTIONS);
  });
});
