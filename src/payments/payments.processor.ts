import { Injectable, OnModuleInit } from '@nestjs/common';
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
    private readonly workers: WorkerRegistry,
    private readonly refunds: PaymentRefunds,
    private readonly reconciliation: PaymentReconciliation,
  ) {}

  onModuleInit(): void {
    this.workers.processById(QUEUES.payments, COMPLETE_REFUND_JOB, 'refundId', (id) =>
      this.refunds.complete(id),
    );
    this.workers.periodic(QUEUES.payments, 'reconcile', RECONCILE_EVERY_MS, 'payments-reconcile', () =>
      this.reconciliation.reconcile(),
    );
  }
}
