import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { BoundedConcurrency, ConcurrencyRefused } from '../common/bounded-concurrency';
import { UnavailableError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
import { AuthBusyError } from './auth.errors';
import { HashProcessError, PasswordHashProcess } from './password-hash-process';
import { PASSWORD_HASH_OPTIONS } from './passwords';

/**
 * Every argon2 hash and verification of the process goes through here, PASSWORD_HASH_CONCURRENCY
 * at a time (half the cores by default). argon2 runs on libuv's thread pool (4 threads): left
 * alone, a login flood keeps all of them busy and takes every core, and every other route slows
 * with it. Bounded, the flood gets at most its share of the CPU; callers wait their turn in
 * arrival order (at most PASSWORD_HASH_QUEUE_LIMIT of them, each at most
 * PASSWORD_HASH_MAX_WAIT_MS), and the excess is answered 429 AUTH_BUSY with Retry-After.
 * The hashing itself runs in a child process niced to PASSWORD_HASH_NICE, so what a flood does
 * get of the CPU is what the rest of the shop leaves (password-hash-process.ts, decision 0026).
 */
@Injectable()
export class PasswordHasher implements OnModuleDestroy {
  private readonly logger = new Logger('PasswordHasher');
  private readonly slots: BoundedConcurrency;
  private readonly process: PasswordHashProcess;
  private lastWarning = 0;

  constructor(private readonly config: AppConfig) {
    const { hashConcurrency, hashQueueLimit, hashMaxWaitMs, hashNice } = config.auth;
    this.slots = new BoundedConcurrency(hashConcurrency, hashQueueLimit, hashMaxWaitMs);
    this.process = new PasswordHashProcess(
      // A task's own time (the wait for a slot is bounded separately): generous, as a niced
      // process on a saturated machine is slow by design; it only guards against a stuck child.
      { nice: hashNice, threads: hashConcurrency, taskTimeoutMs: 30_000 },
      PASSWORD_HASH_OPTIONS,
    );
  }

  onModuleDestroy(): void {
    this.process.close();
  }

  hash(password: string): Promise<string> {
    return this.bounded(() => this.process.hash(password));
  }

  /** With no stored hash it spends the same time (unknown emails are not told apart by timing). */
  verify(hash: string | undefined, password: string): Promise<boolean> {
    return this.bounded(() => this.process.verify(hash, password));
  }

  private async bounded<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await this.slots.run(task);
    } catch (err) {
      if (err instanceof HashProcessError) {
        this.logger.error(err.message);
        throw new UnavailableError('Password checks are unavailable, retry later', 'UNAVAILABLE', 'argon2');
      }
      if (!(err instanceof ConcurrencyRefused)) throw err;
      if (Date.now() - this.lastWarning > 10_000) {
        this.lastWarning = Date.now();
        this.logger.warn(
          `password hashing saturated (${this.slots.active} running, ${this.slots.queued} waiting): refusing with AUTH_BUSY (${err.reason})`,
        );
      }
      throw new AuthBusyError(Math.max(1, Math.ceil(this.config.auth.hashMaxWaitMs / 1000)));
    }
  }
}
