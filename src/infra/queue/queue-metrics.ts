import { Injectable } from '@nestjs/common';
import { COLLECT_TIMEOUT_MS, MetricFamilies, MetricsService } from '../observability/metrics.service';
import { QueueHealth } from './queue-health.service';

const STATES = ['waiting', 'active', 'delayed', 'paused', 'completed', 'failed'] as const;

/** Job counts of one queue, or null when Redis did not answer in time. */
type Snapshot = Map<string, Record<(typeof STATES)[number], number> | null>;

/**
 * Queue families. Depth is read from Redis when /metrics is scraped (one MULTI per queue,
 * bounded, shared by both gauges) rather than polled; processed jobs are counted by the
 * processes that consume them (see WorkerRegistry).
 */
@Injectable()
export class QueueMetrics extends MetricFamilies({
  processed: {
    counter: 'shop_queue_jobs_processed_total',
    help: 'Jobs finished by this process per queue and outcome (failed: every failed attempt, retried or not)',
    labels: ['queue', 'outcome'],
  },
  /** Owed jobs that spent their attempts (see queues.ts OWED_JOB_OPTIONS). */
  deadLetters: {
    counter: 'shop_queue_dead_letters_total',
    help: 'Owed jobs that spent their attempts and became dead letters (kept in the failed set, re-driven); alert on any increase',
    labels: ['queue'],
  },
  redriven: {
    counter: 'shop_queue_dead_letters_redriven_total',
    help: 'Dead letters re-driven (one more attempt) by this process',
    labels: ['queue'],
  },
  givenUp: {
    counter: 'shop_queue_dead_letters_given_up_total',
    help: 'Dead letters (and owed outbox events: queue="outbox") older than DEAD_LETTER_RETENTION_HOURS, logged and deleted',
    labels: ['queue'],
  },
}) {
  private snapshotting?: Promise<Snapshot>;

  constructor(
    metrics: MetricsService,
    private readonly health: QueueHealth,
  ) {
    super(metrics);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    metrics.gauge(
      'shop_queue_jobs',
      'Jobs per Bull queue and state, read from Redis at scrape time (completed/failed: as retained by removeOnComplete/removeOnFail)',
      ['queue', 'state'],
      async function () {
        const snap = await self.snapshot();
        for (const [queue, counts] of snap) {
          // A queue whose counts could not be read keeps no samples rather than stale ones.
          for (const state of STATES)
            if (counts) this.set({ queue, state }, counts[state]);
            else this.remove({ queue, state });
        }
      },
    );
    metrics.gauge(
      'shop_queue_backlog_limit',
      'QUEUE_BACKLOG_LIMIT: waiting jobs per queue its Redis memory allows; at or past it the queue is under backpressure and its feeders hold back',
      ['queue'],
      async function () {
        for (const [queue] of await self.snapshot()) this.set({ queue }, health.limit);
      },
    );
    metrics.gauge(
      'shop_queue_up',
      '1 when the queue counts could be read from Redis within the scrape bound, else 0',
      ['queue'],
      async function () {
        for (const [queue, counts] of await self.snapshot()) this.set({ queue }, counts ? 1 : 0);
      },
    );
  }

  /** Counts of every queue, read once per scrape however many families ask. */
  private snapshot(): Promise<Snapshot> {
    this.snapshotting ??= this.read().finally(() => (this.snapshotting = undefined));
    return this.snapshotting;
  }

  private async read(): Promise<Snapshot> {
    const out: Snapshot = new Map();
    await Promise.all(
      this.health.queues().map(async (q) => {
        try {
          // Shorter than the collect bound, so the answer is "down" rather than nothing.
          const c = (await this.health.counts(q, COLLECT_TIMEOUT_MS * 0.8)) as unknown as Record<
            string,
            number | undefined
          >;
          const counts = {} as Record<(typeof STATES)[number], number>;
          for (const s of STATES) counts[s] = Number(c[s] ?? 0);
          out.set(q.name, counts);
        } catch {
          out.set(q.name, null);
        }
      }),
    );
    return out;
  }
}
