import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { PaymentReconciliation } from './payment-reconciliation.service';
import { COMPLETE_REFUND_JOB, PaymentRefunds } from './payment-refunds.service';

export const RECONCILE_EVERY_MS = 60_000;

/**
 * The payments module's background work, on the worker:
 * - `complete-refund`: finishes a refund the PSP did not take at once (safe to run twice);
 * - `reconcile` (repeatable): the backstop for lost webhooks, retries and crashes.
 * Its order-event handlers are in PaymentsSubscriptions.
 */
@Injectable()
export class PaymentsProcessor implements OnModuleInit {
  constructor(
    @InjectQueue(QUEUES.payments) private readonly queue: Queue<{ refundId?: string }>,
    private readonly workers: WorkerRegistry,
    private readonly refunds: PaymentRefunds,
    private readonly reconciliation: PaymentReconciliation,
  ) {}

  onModuleInit(): void {
    this.workers.process(
      this.queue,
      async (job) => {
        if (job.data.refundId) await this.refunds.complete(job.data.refundId);
      },
      { name: COMPLETE_REFUND_JOB },
    );
    this.workers.periodic(this.queue, 'reconcile', RECONCILE_EVERY_MS, 'payments-reconcile', () =>
      this.reconciliation.reconcile(),
    );
  }
}
