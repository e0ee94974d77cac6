import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { TimerLoop } from '../../common/timer-loop';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { QueueHealth } from './queue-health.service';
import { QueueMetrics } from './queue-metrics';
import { isOwed } from './queues';
import { WorkerRegistry } from './worker-registry.service';

/** Failed jobs read per page, and re-driven per queue per pass at most. */
const PAGE = 200;
const MAX_PER_QUEUE = 2000;
const REDIS_BOUND_MS = 5000;

/**
 * Re-drives dead letters (docs/decisions/0020-no-event-dropped.md). An owed job that spent its
 * attempts stays in its queue's failed set; every QUEUE_REDRIVE_INTERVAL_MS each worker process
 * gives every such job one more attempt (`job.retry()`: back to waiting, run once, failed again
 * if its dependency is still down). So after an outage longer than the retry schedule, the work
 * resumes by itself within one interval of the recovery, and a job that can never succeed keeps
 * showing in `shop_queue_jobs{state="failed"}` until someone looks. Several workers may re-drive
 * at once: a job already moved by another is skipped. Dead letters older than
 * DEAD_LETTER_RETENTION_HOURS are given up: logged at error level with their payload, deleted.
 */
@Injectable()
export class DeadLetters implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('DeadLetters');
  private stopped = false;
  // Jittered, so the workers of a deployment do not all re-drive in the same instant.
  private readonly loop = new TimerLoop(
    () =>
      this.redrive().then(
        () => undefined,
        (err: Error) => this.logger.warn(`re-driving dead letters failed: ${err.message}`),
      ),
    () => Math.round(this.config.queues.redriveIntervalMs * (0.8 + Math.random() * 0.4)),
    { unref: true },
  );

  constructor(
    private readonly config: AppConfig,
    private readonly workers: WorkerRegistry,
    private readonly health: QueueHealth,
    private readonly metrics: QueueMetrics,
  ) {}

  onApplicationBootstrap(): void {
    if (this.workers.enabled) this.loop.start();
  }

  /** One pass over every queue. */
  async redrive(): Promise<{ redriven: number; givenUp: number }> {
    let redriven = 0;
    let givenUp = 0;
    for (const queue of this.health.queues()) {
      const r = await this.redriveQueue(queue);
      redriven += r.redriven;
      givenUp += r.givenUp;
    }
    return { redriven, givenUp };
  }

  private async redriveQueue(queue: Queue): Promise<{ redriven: number; givenUp: number }> {
    let redriven = 0;
    let givenUp = 0;
    let offset = 0;
    while (!this.stopped && redriven + givenUp < MAX_PER_QUEUE) {
      const jobs = (await withTimeout(
        queue.getFailed(offset, offset + PAGE - 1),
        REDIS_BOUND_MS,
        `failed jobs of ${queue.name}`,
      )) as (Job | null)[];
      if (!jobs.length) break;
      let moved = 0;
      for (const job of jobs) {
        if (!job || !isOwed(job.opts)) continue;
        if (Date.now() - job.timestamp > this.config.queues.deadLetterRetentionMs) {
          this.logger.error(
            `dead letter given up after DEAD_LETTER_RETENTION_HOURS: ${queue.name} job ${job.id} (${job.name}), ` +
              `last error: ${job.failedReason}; payload: ${JSON.stringify(job.data)}`,
          );
          if (await this.settle(job.remove())) {
            givenUp++;
            moved++;
            this.metrics.givenUp.labels(queue.name).inc();
          }
          continue;
        }
        if (await this.settle(job.retry())) {
          redriven++;
          moved++;
          this.metrics.redriven.labels(queue.name).inc();
        }
      }
      // Moved jobs left the failed set: the next page starts that much earlier.
      offset += jobs.length - moved;
    }
    if (redriven) this.logger.log(`re-drove ${redriven} dead letter(s) of queue ${queue.name}`);
    return { redriven, givenUp };
  }

  /** Whether the move happened (another worker may have moved or locked the job first). */
  private async settle(p: Promise<unknown>): Promise<boolean> {
    try {
      await withTimeout(p, REDIS_BOUND_MS, 'dead letter move');
      return true;
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
  }
}
