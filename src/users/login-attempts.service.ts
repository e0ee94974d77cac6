import { Injectable, Logger } from '@nestjs/common';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { createHash } from 'node:crypto';
import { withTimeout } from '../common/with-timeout';
import { AppConfig } from '../infra/config/app-config';
import { RedisService } from '../infra/redis/redis.service';
import { LocalThrottler, RateLimitedError, RedisThrottlerStorage } from '../infra/throttling';

/**
 * Bound on one limiter round trip. The command connection fails fast while Redis is down, but
 * a black-holed Redis would hold a login until the kernel gives up; past this the in-process
 * counters decide.
 */
const REDIS_BOUND_MS = 500;

/**
 * Brute-force brakes, counted in Redis so every instance shares one count:
 * - LOGIN_MAX_FAILURES attempts per account (or, for an email that names no account, per
 *   normalized email) + IP per LOGIN_FAILURE_WINDOW_SECONDS. Keyed on the account id, not the
 *   typed email: the email column's collation finds `ádmin@…` and `ＡＤＭＩＮ@…` as `admin@…`,
 *   so a key on the spelling would give each spelling its own budget;
 * - LOGIN_IP_MAX_ATTEMPTS attempts per IP across all emails (password spraying, argon2 CPU).
 * Both are counted *before* the password is checked (one atomic script each), so parallel
 * guesses cannot slip past; a success clears the account's count and gives its IP attempt back,
 * so only failures accumulate.
 * - LOGIN_LOCK_AFTER_FAILURES wrong passwords for one account from any IP within
 *   LOGIN_LOCK_SECONDS lock it (see AuthService): counted here, the lock itself is on the row.
 *
 * While Redis is unreachable the same counts are kept in this process (per instance, so N
 * instances allow N times the limit) instead of releasing the brake: logged once per outage.
 */
@Injectable()
export class LoginAttempts {
  private readonly logger = new Logger('LoginAttempts');
  private readonly storage: RedisThrottlerStorage;
  private readonly local = new LocalThrottler();
  private degraded = false;

  constructor(
    redis: RedisService,
    private readonly config: AppConfig,
  ) {
    this.storage = new RedisThrottlerStorage(redis);
  }

  /**
   * Counts an attempt against `subject` (`user:<id>` or `email:<normalized>`) from `ip`, and
   * against the IP; throws RATE_LIMITED (with Retry-After) once over either limit.
   */
  async begin(subject: string, ip: string): Promise<void> {
    const { loginMaxFailures, loginFailureWindowSeconds, loginIpMaxAttempts } = this.config.auth;
    const windowMs = loginFailureWindowSeconds * 1000;
    const [perSubject, perIp] = await Promise.all([
      this.count('login', hashKey(subject, ip), windowMs, loginMaxFailures),
      this.count('login-ip', hashKey(ip), windowMs, loginIpMaxAttempts),
    ]);
    if (perSubject.isBlocked)
      throw new RateLimitedError(
        Math.max(1, perSubject.timeToBlockExpire),
        'Too many failed logins for this account from this address; retry later',
      );
    if (perIp.isBlocked)
      throw new RateLimitedError(
        Math.max(1, perIp.timeToBlockExpire),
        'Too many failed logins from this address; retry later',
      );
  }

  /** A successful login: the account's counts start again, and the IP gets its attempt back. */
  async succeeded(subject: string, ip: string, userId: string): Promise<void> {
    const subjectKey = hashKey(subject, ip);
    const ipKey = hashKey(ip);
    const lockKey = hashKey(userId);
    this.local.reset(`login:${subjectKey}`);
    this.local.reset(`login-lock:${lockKey}`);
    this.local.release(`login-ip:${ipKey}`);
    await this.redis(
      Promise.all([
        this.storage.reset(subjectKey, 'login'),
        this.storage.reset(lockKey, 'login-lock'),
        this.storage.release(ipKey, 'login-ip'),
      ]),
    ).catch(() => undefined);
  }

  /**
   * Counts a wrong password against the account (from any IP). True when this failure reaches
   * LOGIN_LOCK_AFTER_FAILURES within LOGIN_LOCK_SECONDS: the caller locks the account, and the
   * count starts again for when the lock ends.
   */
  async failedPassword(userId: string): Promise<boolean> {
    const { lockAfterFailures, lockSeconds } = this.config.auth;
    if (lockAfterFailures <= 0) return false;
    const key = hashKey(userId);
    const r = await this.count('login-lock', key, lockSeconds * 1000, lockAfterFailures);
    if (r.totalHits < lockAfterFailures) return false;
    this.local.reset(`login-lock:${key}`);
    await this.redis(this.storage.reset(key, 'login-lock')).catch(() => undefined);
    return true;
  }

  private async count(
    name: string,
    key: string,
    windowMs: number,
    limit: number,
  ): Promise<ThrottlerStorageRecord> {
    try {
      const r = await this.redis(this.storage.increment(key, windowMs, limit, windowMs, name));
      if (this.degraded) this.logger.log('login attempts counted in Redis again');
      this.degraded = false;
      return r;
    } catch (err) {
      if (!this.degraded)
        this.logger.warn(
          `login attempts counted in this process only while Redis is unreachable (${(err as Error).message})`,
        );
      this.degraded = true;
      return this.local.increment(`${name}:${key}`, windowMs, limit, windowMs);
    }
  }

  private redis<T>(p: Promise<T>): Promise<T> {
    return withTimeout(p, REDIS_BOUND_MS, 'Redis (login attempts)');
  }
}

/** Fixed-length keys whatever the input (emails and IPv6 addresses included). */
function hashKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);
}
