import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AppConfig } from '../infra/config/app-config';
import { RedisService } from '../infra/redis/redis.service';
import { RateLimitedError, RedisThrottlerStorage } from '../infra/throttling';

/**
 * Brute-force brake: LOGIN_MAX_FAILURES attempts per email+IP per LOGIN_FAILURE_WINDOW_SECONDS,
 * counted in Redis so every instance shares one count. Each attempt is counted *before* the
 * password is checked (one atomic INCR), so parallel guesses cannot slip past the limit; a
 * successful login clears the count, so only failures accumulate. If Redis is down the brake
 * is released (logged), rather than locking everybody out.
 */
@Injectable()
export class LoginAttempts {
  private readonly logger = new Logger('LoginAttempts');
  private readonly storage: RedisThrottlerStorage;

  constructor(
    redis: RedisService,
    private readonly config: AppConfig,
  ) {
    this.storage = new RedisThrottlerStorage(redis);
  }

  /** Counts an attempt; throws RATE_LIMITED (with Retry-After) once over the limit. */
  async begin(email: string, ip: string): Promise<void> {
    const { loginMaxFailures: limit, loginFailureWindowSeconds: window } = this.config.auth;
    let r;
    try {
      r = await this.storage.increment(this.key(email, ip), window * 1000, limit, window * 1000, 'login');
    } catch (err) {
      this.logger.warn(`login attempts not counted (${(err as Error).message})`);
      return;
    }
    if (r.isBlocked)
      throw new RateLimitedError(
        Math.max(1, r.timeToBlockExpire),
        'Too many failed logins for this account from this address; retry later',
      );
  }

  async succeeded(email: string, ip: string): Promise<void> {
    await this.storage.reset(this.key(email, ip), 'login').catch(() => undefined);
  }

  private key(email: string, ip: string): string {
    return createHash('sha256').update(`${email}\n${ip}`).digest('hex').slice(0, 40);
  }
}
