import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { PasswordFlows } from './password-flows.service';
import { RefreshTokens } from './refresh-tokens.service';

export const PURGE_REFRESH_TOKENS_JOB = 'purge-refresh-tokens';
export const PURGE_EVERY_MS = 3_600_000;

/**
 * The users module's background work, on the worker: `purge-refresh-tokens` (repeatable, hourly)
 * deletes refresh tokens (and password-reset tokens) long expired, so the tables hold live
 * sessions and recent history only instead of one row per login and refresh forever.
 */
@Injectable()
export class UsersHousekeepingProcessor implements OnModuleInit {
  private readonly logger = new Logger('UsersHousekeeping');

  constructor(
    private readonly workers: WorkerRegistry,
    private readonly tokens: RefreshTokens,
    private readonly passwords: PasswordFlows,
  ) {}

  onModuleInit(): void {
    this.workers.periodic(
      QUEUES.users,
      PURGE_REFRESH_TOKENS_JOB,
      PURGE_EVERY_MS,
      PURGE_REFRESH_TOKENS_JOB,
      () => this.purge(),
    );
  }

  async purge(): Promise<{ purged: number; resetTokens: number }> {
    const purged = await this.tokens.purgeExpired();
    if (purged) this.logger.log(`purged ${purged} expired refresh tokens`);
    const resetTokens = await this.passwords.purgeExpired();
    if (resetTokens) this.logger.log(`purged ${resetTokens} expired password-reset tokens`);
    return { purged, resetTokens };
  }
}
