import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { OrderEventsBus } from './order-events';
import type { OutboxJob } from './outbox.relay';

/** Consumes published outbox rows and hands each event to the in-process subscribers. */
@Injectable()
export class OutboxProcessor implements OnModuleInit {
  constructor(
    @InjectQueue(QUEUES.outbox) private readonly queue: Queue<OutboxJob>,
    private readonly workers: WorkerRegistry,
    private readonly bus: OrderEventsBus,
  ) {}

  onModuleInit(): void {
    this.workers.process(this.queue, (job) => this.bus.dispatch(job.data.event), { concurrency: 20 });
  }
}
