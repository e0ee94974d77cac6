import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { LoginAuditRepository } from './login-audit.repository';
import type { LoginAuditJob } from './login-audit.types';

/** Consumes the `audit` queue (worker/all roles): one idempotent INSERT per login event. */
@Injectable()
export class LoginAuditProcessor implements OnModuleInit {
  constructor(
    @InjectQueue(QUEUES.audit) private readonly queue: Queue<LoginAuditJob>,
    private readonly workers: WorkerRegistry,
    private readonly repo: LoginAuditRepository,
  ) {}

  onModuleInit(): void {
    this.workers.process(this.queue, (job) => this.repo.insertOnce(job.data), { concurrency: 10 });
  }
}
