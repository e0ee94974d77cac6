import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { QUEUES } from './queues';

/** Counts of every registered queue, for /health/ready and /metrics. */
@Injectable()
export class QueueHealth {
  constructor(private readonly moduleRef: ModuleRef) {}

  queues(): Queue[] {
    return Object.values(QUEUES)
      .map((name) => {
        try {
          return this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
        } catch {
          return undefined;
        }
      })
      .filter((q): q is Queue => !!q);
  }

  async report(): Promise<
    Record<
      string,
      { state: 'up' | 'down'; waiting?: number; active?: number; failed?: number; delayed?: number }
    >
  > {
    const out: Record<
      string,
      { state: 'up' | 'down'; waiting?: number; active?: number; failed?: number; delayed?: number }
    > = {};
    await Promise.all(
      this.queues().map(async (q) => {
        try {
          const c = await Promise.race([
            q.getJobCounts(),
            new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 1500).unref()),
          ]);
          out[q.name] = {
            state: 'up',
            waiting: c.waiting,
            active: c.active,
            failed: c.failed,
            delayed: c.delayed,
          };
        } catch {
          out[q.name] = { state: 'down' };
        }
      }),
    );
    return out;
  }
}
