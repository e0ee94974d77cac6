import type { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import type { AppConfig } from '../config/app-config';
import { QueueHealth, underBackpressure } from './queue-health.service';

/** A QueueHealth over fake queues whose waiting counts the test sets. */
function health(limit: number, waiting: Record<string, number | Error>) {
  const calls: string[] = [];
  const queues = Object.keys(waiting).map(
    (name) =>
      ({
        name,
        getJobCounts: async () => {
          calls.push(name);
          const w = waiting[name];
          if (w instanceof Error) throw w;
          return { waiting: w, active: 0, completed: 0, failed: 0, delayed: 0 };
        },
      }) as unknown as Queue,
  );
  const h = new QueueHealth({} as ModuleRef, { queues: { backlogLimit: limit } } as AppConfig);
  jest.spyOn(h, 'queues').mockReturnValue(queues);
  return { h, calls, waiting };
}

describe('queue backpressure (QUEUE_BACKLOG_LIMIT)', () => {
  it('is on at and past the limit of waiting jobs', () => {
    expect(underBackpressure({ waiting: 99 }, 100)).toBe(false);
    expect(underBackpressure({ waiting: 100 }, 100)).toBe(true);
  });

  it('names the first queue over its limit, reads each at most once a second, and reports it for readiness', async () => {
    const { h, calls, waiting } = health(100, { outbox: 5, email: 100, orders: 0 });
    expect(await h.overLimit('outbox', 'email', 'orders')).toBe('email');
    expect(await h.overLimit('outbox', 'email', 'orders')).toBe('email');
    expect(calls).toEqual(['outbox', 'email']); // memoized
    const report = await h.report();
    expect(report.email).toMatchObject({ waiting: 100, limit: 100, backpressure: true });
    expect(report.outbox).toMatchObject({ waiting: 5, limit: 100, backpressure: false });
    waiting.email = 10;
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + 1500);
    expect(await h.overLimit('outbox', 'email', 'orders')).toBeUndefined();
    jest.restoreAllMocks();
  });

  it('does not hold the feeders when the counts cannot be read (Redis away: they fail and keep what they owe)', async () => {
    const { h } = health(1, { email: new Error('Redis did not answer') });
    expect(await h.overLimit('email')).toBeUndefined();
  });
});
