import { Injectable, OnModuleInit } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { LoginAuditRepository } from './login-audit.repository';
import type { LoginAuditJob } from './login-audit.types';

/** Consumes the `audit` queue (worker/all roles): one idempotent INSERT per login event. */
@Injectable()
export class LoginAuditProcessor implements OnModuleInit {
  constructor(
    private readonly workers: WorkerRegistry,
    private readonly repo: LoginAuditRepository,
  ) {}

  onModuleInit(): void {
    this.workers.process<LoginAuditJob>(QUEUES.audit, (job) => this.repo.insertOnce(job.data), {
      concurrency: 10,
    });
  }
}
