import { OutboxRepository } from './outbox.repository';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { BatchWriter } from '../common/batch-loader';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { OrderEventsBus } from './order-events';
import type { OutboxJob } from './outbox.relay';

/** Handled marks are written together: one UPDATE per this many events, or per this many ms. */
const MARK_BATCH = 200;
const MARK_DELAY_MS = 5;

/**
 * Consumes published outbox rows: hands each event to the in-process subscribers, then marks
 * the row handled. The job succeeds only once both are done, so an event whose handlers (or
 * whose mark) failed is retried — and dead-lettered, re-driven — until they succeed; the row
 * stays owed in MySQL meanwhile, so even a job Redis lost is published again by the relay
 * (decision 0020). Handlers are idempotent: a retry runs them all again.
 */
@Injectable()
export class OutboxProcessor implements OnModuleInit {
  /** Resolves once the row's `handled_at` is written (batched with the marks of concurrent jobs). */
  private readonly handled: BatchWriter<string>;

  constructor(
    private readonly workers: WorkerRegistry,
    private readonly bus: OrderEventsBus,
    repo: OutboxRepository,
  ) {
    this.handled = new BatchWriter((ids) => repo.markHandled(ids), {
      max: MARK_BATCH,
      delayMs: MARK_DELAY_MS,
    });
  }

  onModuleInit(): void {
    this.workers.process<OutboxJob>(
      QUEUES.outbox,
      async (job) => {
        await this.bus.dispatch(job.data.event);
        await this.handled.write(job.data.event.eventId);
      },
      { concurrency: 20 },
    );
  }
}
