import { OutboxRepository } from './outbox.repository';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { idTime } from '../common/ids';
import { AppConfig } from '../infra/config/app-config';
import { MetricsService } from '../infra/observability/metrics.service';
import { QueueMetrics } from '../infra/queue/queue-metrics';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';

export const PURGE_OUTBOX_JOB = 'purge-outbox';
export const PURGE_OUTBOX_EVERY_MS = 3600_000;
/** Rows deleted per statement, and statements per run at most (the next run goes on). */
const PURGE_BATCH = 5000;
const PURGE_MAX_BATCHES = 100;

/**
 * The outbox's retention and its gauges (decision 0020):
 * - `purge-outbox` (repeatable, hourly, on the orders queue): deletes handled rows older than
 *   OUTBOX_RETENTION_HOURS, in batches; an owed row older than DEAD_LETTER_RETENTION_HOURS (no
 *   handler took it in all that time) is given up: logged at error level with its payload, then
 *   deleted, and counted in `shop_queue_dead_letters_given_up_total{queue="outbox"}`.
 * - `shop_outbox_owed_events` and `shop_outbox_oldest_owed_seconds`, read from the primary when
 *   scraped: events committed whose handlers have not all succeeded yet.
 */
@Injectable()
export class OutboxHousekeeping implements OnModuleInit {
  private readonly logger = new Logger('OutboxHousekeeping');

  constructor(
    private readonly workers: WorkerRegistry,
    private readonly repo: OutboxRepository,
    private readonly config: AppConfig,
    private readonly queueMetrics: QueueMetrics,
    metrics: MetricsService,
  ) {
    // One read per scrape serves both gauges; the index (handled_at, published_at) holds the id.
    let reading: Promise<{ n: number; oldest: string | null }> | undefined;
    const read = () => (reading ??= this.repo.owed().finally(() => (reading = undefined)));
    metrics.gauge(
      'shop_outbox_owed_events',
      'Order events committed to the outbox whose handlers have not all succeeded yet (pending, retrying or dead letters)',
      [],
      async function () {
        this.set((await read()).n);
      },
    );
    metrics.gauge(
      'shop_outbox_oldest_owed_seconds',
      'Age of the oldest owed outbox event (0 when none); alert when it grows past minutes',
      [],
      async function () {
        const { oldest } = await read();
        this.set(oldest ? Math.max(0, (Date.now() - idTime(oldest).getTime()) / 1000) : 0);
      },
    );
  }

  onModuleInit(): void {
    this.workers.periodic(QUEUES.orders, PURGE_OUTBOX_JOB, PURGE_OUTBOX_EVERY_MS, 'outbox-purge', () =>
      this.purge(),
    );
  }

  /** One retention run; returns what it deleted. */
  async purge(): Promise<{ handled: number; givenUp: number }> {
    const { outboxRetentionMs, deadLetterRetentionMs } = this.config.queues;
    let handled = 0;
    for (let i = 0; i < PURGE_MAX_BATCHES; i++) {
      const n = await this.repo.purgeHandled(outboxRetentionMs, PURGE_BATCH);
      handled += n;
      if (n < PURGE_BATCH) break;
    }
    let givenUp = 0;
    for (let i = 0; i < PURGE_MAX_BATCHES; i++) {
      const rows = await this.repo.owedOlderThan(deadLetterRetentionMs, 500);
      if (!rows.length) break;
      for (const r of rows)
        this.logger.error(
          `outbox event given up after DEAD_LETTER_RETENTION_HOURS: ${r.id} (${r.type} of order ${r.aggregateId}); ` +
            `payload: ${r.payload}`,
        );
      const n = await this.repo.deleteOwed(rows.map((r) => r.id));
      givenUp += n;
      this.queueMetrics.givenUp.labels(QUEUES.outbox).inc(n);
      if (rows.length < 500) break;
    }
    if (handled || givenUp)
      this.logger.log(
        `outbox retention: ${handled} handled event(s) deleted, ${givenUp} owed event(s) given up`,
      );
    return { handled, givenUp };
  }
}
