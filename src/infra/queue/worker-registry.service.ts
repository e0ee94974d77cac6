import { Injectable, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { requestContext } from '../../common/context/request-context';
import { AppConfig, runsWorkers } from '../config/app-config';
import { QueueMetrics } from './queue-metrics';

/** Job payloads may carry the id of the request that produced them, for log correlation. */
export interface TracedJobData {
  requestId?: string;
}

/**
 * Attaches queue handlers only in processes whose APP_ROLE consumes queues (`worker`, `all`);
 * an `api` process only produces. Each job runs in its own request context carrying the
 * producer's request id, so log lines of a job name the request that caused it.
 */
@Injectable()
export class WorkerRegistry {
  private readonly logger = new Logger('Workers');
  /** Queues whose outcome events are already observed (a queue may get several named handlers). */
  private readonly observed = new WeakSet<Queue>();

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: QueueMetrics,
  ) {}

  get enabled(): boolean {
    return runsWorkers(this.config.role);
  }

  process<T extends object>(
    queue: Queue<T>,
    handler: (job: Job<T>) => Promise<unknown>,
    opts: { name?: string; concurrency?: number } = {},
  ): void {
    if (!this.enabled) return;
    const run = (job: Job<T>) =>
      requestContext.run({ requestId: jobRequestId(queue, job) }, () => handler(job));
    if (opts.name) void queue.process(opts.name, opts.concurrency ?? 1, run);
    else void queue.process(opts.concurrency ?? 1, run);
    this.observe(queue);
    this.logger.log(
      `consuming queue ${queue.name}${opts.name ? `:${opts.name}` : ''} x${opts.concurrency ?? 1}`,
    );
  }

  private observe(queue: Queue): void {
    if (this.observed.has(queue)) return;
    this.observed.add(queue);
    const completed = this.metrics.processed.labels(queue.name, 'completed');
    const failed = this.metrics.processed.labels(queue.name, 'failed');
    queue.on('completed', () => completed.inc());
    queue.on('failed', (job: Job, err: Error) => {
      failed.inc();
      // The producer's request id, so the line joins the request's own log lines.
      requestContext.run({ requestId: jobRequestId(queue, job) }, () =>
        this.logger.warn(`${queue.name} job ${job.id} failed (attempt ${job.attemptsMade}): ${err.message}`),
      );
    });
  }
}

/** The producer's request id, or one naming the job (the same for every attempt). */
function jobRequestId(queue: Queue, job: Job): string {
  return (job.data as TracedJobData | undefined)?.requestId ?? `job-${queue.name}-${job.id}`;
}

/** Stamps the current request id onto a job payload. */
export function traced<T extends object>(data: T): T & TracedJobData {
  return { ...data, requestId: requestContext.requestId() };
}
