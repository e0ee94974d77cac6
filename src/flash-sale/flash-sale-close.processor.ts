import { Injectable, OnModuleInit } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { FlashSaleSettlement } from './flash-sale-settlement.service';
import { CLOSE_JOB } from './flash-sale.service';

/** The delayed end-of-sale job (queued at creation for endsAt): close, release, reconcile. */
@Injectable()
export class FlashSaleCloseProcessor implements OnModuleInit {
  constructor(
    private readonly workers: WorkerRegistry,
    private readonly settlement: FlashSaleSettlement,
  ) {}

  onModuleInit(): void {
    this.workers.process<{ saleId: string }>(
      QUEUES.flashSale,
      (job) => this.settlement.close(job.data.saleId),
      { name: CLOSE_JOB, concurrency: 2 },
    );
  }
}
