import { Injectable, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import { requestContext } from '../../common/context/request-context';
import { AppConfig, runsWorkers } from '../config/app-config';

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

  constructor(private readonly config: AppConfig) {}

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
      requestContext.run({ requestId: (job.data as TracedJobData).requestId ?? `job-${randomUUID()}` }, () =>
        handler(job),
      );
    if (opts.name) void queue.process(opts.name, opts.concurrency ?? 1, run);
    else void queue.process(opts.concurrency ?? 1, run);
    queue.on('failed', (job, err) =>
      this.logger.warn(`${queue.name} job ${job.id} failed (attempt ${job.attemptsMade}): ${err.message}`),
    );
    this.logger.log(
      `consuming queue ${queue.name}${opts.name ? `:${opts.name}` : ''} x${opts.concurrency ?? 1}`,
    );
  }
}

/** Stamps the current request id onto a job payload. */
export function traced<T extends object>(data: T): T & TracedJobData {
  return { ...data, requestId: requestContext.requestId() };
}
