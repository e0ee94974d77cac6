import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import type { JobCounts, Queue } from 'bull';
import { withTimeout } from '../../common/with-timeout';
import { QUEUES } from './queues';

const COUNTS_TIMEOUT_MS = 1500;

export interface QueueReport {
  state: 'up' | 'down';
  waiting?: number;
  active?: number;
  failed?: number;
  delayed?: number;
}

/** Counts of every registered queue, for /health/ready and /metrics. */
@Injectable()
export class QueueHealth {
  /** At most one count request per queue in flight, however often it is asked (Redis may hang). */
  private readonly inflight = new Map<string, Promise<JobCounts>>();

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

  /**
   * The queue's job counts (waiting, active, completed, failed, delayed, paused), or a
   * rejection after `timeoutMs`. A request still pending from an earlier call is shared, so
   * a Redis that stopped answering costs one hanging request per queue, not one per scrape.
   */
  counts(q: Queue, timeoutMs = COUNTS_TIMEOUT_MS): Promise<JobCounts> {
    let p = this.inflight.get(q.name);
    if (!p) {
      p = q.getJobCounts().finally(() => this.inflight.delete(q.name));
      this.inflight.set(q.name, p);
    }
    return withTimeout(p, timeoutMs, `job counts of queue ${q.name}`);
  }

  async report(): Promise<Record<string, QueueReport>> {
    const out: Record<string, QueueReport> = {};
    await Promise.all(
      this.queues().map(async (q) => {
        try {
          const c = await this.counts(q);
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
