import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { COMPLETE_REFUND_JOB, PaymentsService } from './payments.service';

/** Finishes automatic refunds the provider did not accept at once (safe to run twice). */
@Injectable()
export class PaymentsProcessor implements OnModuleInit {
  constructor(
    @InjectQueue(QUEUES.payments) private readonly queue: Queue<{ refundId: string }>,
    private readonly workers: WorkerRegistry,
    private readonly payments: PaymentsService,
  ) {}

  onModuleInit(): void {
    this.workers.process(this.queue, (job) => this.payments.completeRefund(job.data.refundId), {
      name: COMPLETE_REFUND_JOB,
    });
  }
}
