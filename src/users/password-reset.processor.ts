import { Injectable, OnModuleInit } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { PASSWORD_RESET_REQUEST_JOB, PasswordFlows, PasswordResetRequestJob } from './password-flows.service';

/**
 * `password-reset-request` jobs (`users` queue, worker roles): the account lookup, token and
 * mail of a reset request happen here, off the request path, so a request for an unknown email
 * looks and takes the same as one for an account.
 */
@Injectable()
export class PasswordResetProcessor implements OnModuleInit {
  constructor(
    private readonly workers: WorkerRegistry,
    private readonly flows: PasswordFlows,
  ) {}

  onModuleInit(): void {
    this.workers.process<PasswordResetRequestJob>(
      QUEUES.users,
      (job) => this.flows.handleResetRequest(job.data),
      { name: PASSWORD_RESET_REQUEST_JOB, concurrency: 2 },
    );
  }
}
