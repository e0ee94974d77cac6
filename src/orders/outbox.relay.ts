import { OutboxRepository } from './outbox.repository';
import { InjectQueue } from '@nestjs/bull';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../infra/config/app-config';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { QueueHealth } from '../infra/queue/queue-health.service';
import type { OrderEvent } from './order-events';
import { TimerLoop } from '../common/timer-loop';
import { withTimeout } from '../common/with-timeout';

export const OUTBOX_POLL_MS = 200;
const BATCH = 200;
const ADD_TIMEOUT_MS = 3000;

export interface OutboxJob {
  event: OrderEvent;
}

/**
 * Publishes committed outbox rows as Bull jobs (jobId = outbox id, so a row published twice,
 * e.g. by two worker instances, is one job), then marks them with a conditional UPDATE.
 * At least once: a crash between the add and the mark publishes the row again, and Bull's
 * jobId dedupe or the consumers' idempotency absorb it. While Redis is down the adds fail,
 * the rows stay unpublished, and the next poll catches up.
 *
 * Published is not done: a row stays owed until OutboxProcessor marks it handled (decision
 * 0020). Every QUEUE_REDRIVE_INTERVAL_MS the relay looks at owed rows published longer ago than
 * that: one whose job is gone (Redis lost it: a restart from an older snapshot, a failover, a
 * flush) is published again; one whose job failed for good is left to DeadLetters, which
 * re-drives it. Owed rows older than DEAD_LETTER_RETENTION_HOURS are the retention purge's.
 * Runs in worker roles; `nudge()` lets the process that just committed skip the poll delay.
 *
 * Backpressure (issue 26): while the outbox queue or a queue its handlers feed (mail, order
 * expiry) holds QUEUE_BACKLOG_LIMIT waiting jobs or more, the relay publishes nothing: the events
 * stay owed in MySQL (on disk, not in Redis's memory) and go out once the backlog is below the
 * limit again. Nothing is dropped; order events wait, and `shop_outbox_owed_events` shows them.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private readonly loop = new TimerLoop(
    () => this.pass(),
    () => OUTBOX_POLL_MS,
  );
  private lastError = '';
  private nextOwedCheck = 0;
  private held?: string;

  constructor(
    private readonly config: AppConfig,
    private readonly repo: OutboxRepository,
    private readonly workers: WorkerRegistry,
    @InjectQueue(QUEUES.outbox) private readonly queue: Queue<OutboxJob>,
    private readonly queueHealth: QueueHealth,
  ) {}

  onApplicationBootstrap(): void {
    if (this.workers.enabled) this.loop.start(0);
  }

  nudge(): void {
    if (this.workers.enabled) this.loop.nudge();
  }

  /** One relay pass: publishes what is pending, in batches, until nothing is left or a batch fails. */
  async pass(): Promise<void> {
    try {
      const over = await this.queueHealth.overLimit(QUEUES.outbox, QUEUES.email, QUEUES.orders);
      if (over !== this.held) {
        if (over)
          this.logger.warn(
            `queue ${over} holds ${this.queueHealth.limit}+ waiting jobs (QUEUE_BACKLOG_LIMIT): order events stay in the outbox until it drains`,
          );
        else this.logger.log('queue backlogs below QUEUE_BACKLOG_LIMIT: publishing order events again');
        this.held = over;
      }
      if (over) return;
      for (;;) {
        const rows = await this.repo.unpublished(BATCH);
        if (!rows.length) break;
        const events = rows.map((r) => r.event);
        await withTimeout(
          this.queue.addBulk(events.map((event) => ({ data: { event }, opts: { jobId: event.eventId } }))),
          ADD_TIMEOUT_MS,
          'Redis',
        );
        await this.repo.markPublished(rows.map((r) => r.id));
        if (rows.length < BATCH) break;
      }
      if (Date.now() >= this.nextOwedCheck) {
        await this.republishLost();
        this.nextOwedCheck = Date.now() + this.config.queues.redriveIntervalMs;
      }
      if (this.lastError) this.logger.log('outbox relay recovered');
      this.lastError = '';
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== this.lastError) this.logger.warn(`outbox relay: ${msg}; rows stay pending and are retried`);
      this.lastError = msg;
    }
  }

  /**
   * Owed rows published more than one re-drive interval ago: those whose job is gone are
   * published again; every row looked at moves to the back of the line (its published_at), so
   * it is looked at again one interval later at the earliest. Returns how many were re-published.
   */
  async republishLost(): Promise<number> {
    const { redriveIntervalMs, deadLetterRetentionMs } = this.config.queues;
    const rows = await this.repo.owedPublishedBefore(redriveIntervalMs, deadLetterRetentionMs, BATCH);
    if (!rows.length) return 0;
    const lost: OrderEvent[] = [];
    for (const r of rows) {
      const job = await withTimeout(this.queue.getJob(r.id), ADD_TIMEOUT_MS, 'Redis');
      if (!job) lost.push(r.event);
    }
    if (lost.length) {
      await withTimeout(
        this.queue.addBulk(lost.map((event) => ({ data: { event }, opts: { jobId: event.eventId } }))),
        ADD_TIMEOUT_MS,
        'Redis',
      );
      this.logger.warn(
        `${lost.length} owed outbox event(s) had lost their job (Redis lost it); published again: ` +
          lost
            .slice(0, 10)
            .map((e) => e.eventId)
            .join(', '),
      );
    }
    await this.repo.markRepublished(rows.map((r) => r.id));
    return lost.length;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }
}
