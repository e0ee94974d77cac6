import { Injectable, Logger } from '@nestjs/common';
import { BoundedConcurrency, ConcurrencyRefused } from '../common/bounded-concurrency';
import { AppConfig } from '../infra/config/app-config';
import { AuthBusyError } from './auth.errors';
import { hashPassword, verifyPassword } from './passwords';

/**
 * Every argon2 hash and verification of the process goes through here, PASSWORD_HASH_CONCURRENCY
 * at a time (half the cores by default). argon2 runs on libuv's thread pool (4 threads): left
 * alone, a login flood keeps all of them busy and takes every core, and every other route slows
 * with it. Bounded, the flood gets at most its share of the CPU; callers wait their turn in
 * arrival order (at most PASSWORD_HASH_QUEUE_LIMIT of them, each at most
 * PASSWORD_HASH_MAX_WAIT_MS), and the excess is answered 429 AUTH_BUSY with Retry-After.
 */
@Injectable()
export class PasswordHasher {
  private readonly logger = new Logger('PasswordHasher');
  private readonly slots: BoundedConcurrency;
  private lastWarning = 0;

  constructor(private readonly config: AppConfig) {
    const { hashConcurrency, hashQueueLimit, hashMaxWaitMs } = config.auth;
    this.slots = new BoundedConcurrency(hashConcurrency, hashQueueLimit, hashMaxWaitMs);
  }

  hash(password: string): Promise<string> {
    return this.bounded(() => hashPassword(password));
  }

  /** With no stored hash it spends the same time (unknown emails are not told apart by timing). */
  verify(hash: string | undefined, password: string): Promise<boolean> {
    return this.bounded(() => verifyPassword(hash, password));
  }

  private async bounded<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await this.slots.run(task);
    } catch (err) {
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
