import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { JobCounts, Queue } from 'bull';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { QUEUES } from './queues';
import { registeredQueue } from './register-queues';

const COUNTS_TIMEOUT_MS = 1500;

export interface QueueReport {
  state: 'up' | 'down';
  waiting?: number;
  active?: number;
  failed?: number;
  delayed?: number;
  /** QUEUE_BACKLOG_LIMIT: waiting jobs its Redis memory allows. */
  limit?: number;
  /** Waiting jobs at or past the limit: its feeders hold back (see `overLimit`). */
  backpressure?: boolean;
}

/** How long `overLimit` trusts a count it read (the relay asks on every pass). */
const OVER_LIMIT_MEMO_MS = 1000;

/** Whether a queue's backlog is at or past its limit (waiting jobs: what nothing has taken yet). */
export function underBackpressure(counts: Pick<JobCounts, 'waiting'>, limit: number): boolean {
  return counts.waiting >= limit;
}

/** Counts of every registered queue, for /health/ready and /metrics. */
@Injectable()
export class QueueHealth {
  /** At most one count request per queue in flight, however often it is asked (Redis may hang). */
  private readonly inflight = new Map<string, Promise<JobCounts>>();
  private readonly overMemo = new Map<string, { at: number; over: boolean }>();
  readonly limit: number;

  constructor(
    private readonly moduleRef: ModuleRef,
    config: AppConfig,
  ) {
    this.limit = config.queues.backlogLimit;
  }

  /**
   * Whether any of `names` is under backpressure (waiting jobs ≥ QUEUE_BACKLOG_LIMIT), read at
   * most once a second per queue. A queue whose counts cannot be read counts as not over: with
   * Redis away the feeders fail on their own and keep what they owe.
   */
  async overLimit(...names: string[]): Promise<string | undefined> {
    for (const name of names) {
      let m = this.overMemo.get(name);
      if (!m || Date.now() - m.at > OVER_LIMIT_MEMO_MS) {
        const q = this.queues().find((x) => x.name === name);
        let over = false;
        if (q)
          try {
            over = underBackpressure(await this.counts(q), this.limit);
          } catch {
            over = false;
          }
        m = { at: Date.now(), over };
        this.overMemo.set(name, m);
      }
      if (m.over) return name;
    }
    return undefined;
  }

  queues(): Queue[] {
    return Object.values(QUEUES)
      .map((name) => {
        try {
          return registeredQueue(this.moduleRef, name);
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
            limit: this.limit,
            backpressure: underBackpressure(c, this.limit),
          };
        } catch {
          out[q.name] = { state: 'down' };
        }
      }),
    );
    return out;
  }
}
