import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { UnavailableError } from '../common/errors/domain-error';
import { withTimeout } from '../common/with-timeout';
import { AppConfig } from '../infra/config/app-config';
import { RedisService } from '../infra/redis/redis.service';
import { RateLimitedError, RedisThrottlerStorage } from '../infra/throttling';
import { LOGIN_IPV6_PREFIX, ipBucket } from './client-info';

const REDIS_BOUND_MS = 500;

/**
 * Limits of the account-mail flows, in Redis (shared by every instance), per
 * ACCOUNT_MAIL_WINDOW_SECONDS:
 * - ACCOUNT_MAIL_LIMIT mails per account (reset links, verification resends), so nobody can
 *   flood someone's mailbox through the shop;
 * - PASSWORD_RESET_IP_LIMIT reset requests and confirmations per client (an IPv4 address or an
 *   IPv6 /64), which is the only limit a reset request can show: it is the same whether or not
 *   the email names an account.
 * Without Redis no account mail can be queued either, so these refuse (503) rather than fall back.
 */
@Injectable()
export class AccountLimits {
  private readonly storage: RedisThrottlerStorage;

  constructor(
    redis: RedisService,
    private readonly config: AppConfig,
  ) {
    this.storage = new RedisThrottlerStorage(redis);
  }

  /**
   * Takes one mail from the account's budget: true when it may be sent. Past the limit, false —
   * or, with `refuse` (the caller asked for their own mail), 429 RATE_LIMITED with Retry-After.
   */
  async takeMail(userId: string, opts: { refuse?: boolean } = {}): Promise<boolean> {
    const { accountMailLimit, accountMailWindowSeconds } = this.config.auth;
    const r = await this.count('account-mail', userId, accountMailLimit, accountMailWindowSeconds);
    if (!r.isBlocked) return true;
    if (opts.refuse)
      throw new RateLimitedError(
        Math.max(1, r.timeToBlockExpire),
        'Too many account mails for this account; retry later',
      );
    return false;
  }

  /** Counts a password-reset request or confirmation from `ip`: 429 past the client's limit. */
  async takeResetAttempt(ip: string): Promise<void> {
    const { passwordResetIpLimit, accountMailWindowSeconds } = this.config.auth;
    const client = ipBucket(ip, LOGIN_IPV6_PREFIX);
    const r = await this.count('password-reset-ip', client, passwordResetIpLimit, accountMailWindowSeconds);
    if (r.isBlocked)
      throw new RateLimitedError(
        Math.max(1, r.timeToBlockExpire),
        'Too many password-reset attempts from this address; retry later',
      );
  }

  private async count(name: string, subject: string, limit: number, windowSeconds: number) {
    const key = createHash('sha256').update(subject).digest('hex').slice(0, 40);
    const windowMs = windowSeconds * 1000;
    try {
      return await withTimeout(
        this.storage.increment(key, windowMs, limit, windowMs, name),
        REDIS_BOUND_MS,
        `Redis (${name})`,
        'redis',
      );
    } catch {
      throw new UnavailableError(
        'Account mail is unavailable right now; retry later',
        'UNAVAILABLE',
        'redis',
      );
    }
  }
}
