import { Injectable } from '@nestjs/common';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import { createHash } from 'node:crypto';
import { TimeoutError } from '../common/with-timeout';
import { AppConfig } from '../infra/config/app-config';
import { RedisService } from '../infra/redis/redis.service';
import { LocalThrottler, RateLimitedError, RedisFallback, RedisThrottlerStorage } from '../infra/throttling';
import { LOGIN_IPV6_PREFIX, ipBucket } from './client-info';
import { LocalLockBudget, RedisLockBudget, Reservation } from './lock-budget';

/**
 * Bound on one limiter round trip. The command connection fails fast while Redis is down, but
 * a black-holed Redis would hold a login until the kernel gives up; past this the in-process
 * counters decide.
 */
const REDIS_BOUND_MS = 500;
/** After Redis failed a limiter call, the next ones go straight to the in-process counts this long. */
const REDIS_RETRY_MS = 1000;

/**
 * Brute-force brakes, counted in Redis so every instance shares one count:
 * - LOGIN_MAX_FAILURES attempts per account (or, for an email that names no account, per
 *   normalized email) + client per LOGIN_FAILURE_WINDOW_SECONDS. Keyed on the account id, not the
 *   typed email: the email column's collation finds `ádmin@…` and `ＡＤＭＩＮ@…` as `admin@…`,
 *   so a key on the spelling would give each spelling its own budget;
 * - LOGIN_IP_MAX_ATTEMPTS attempts per client across all emails (password spraying, argon2 CPU).
 * A client is an IPv4 address or an IPv6 /64 ({@link ipBucket}): addresses rotated inside one
 * /64 share its budget. Both are counted *before* the password is checked (one atomic script
 * each), so parallel guesses cannot slip past; a success clears the account's count and gives
 * its client attempt back, so only failures accumulate.
 * - LOGIN_LOCK_AFTER_FAILURES wrong passwords for one account from anywhere within
 *   LOGIN_LOCK_SECONDS lock it (see AuthService). A place in that count is *reserved* before the
 *   password is verified ({@link reserve}) and none is granted once failures plus checks in
 *   flight reach the threshold, so N concurrent guesses from N addresses yield at most the
 *   threshold of failures; the lock itself is on the row.
 *
 * While Redis is unreachable the same counts are kept in this process (per instance, so N
 * instances allow N times the limit) instead of releasing the brake: logged once per outage.
 */
@Injectable()
export class LoginAttempts {
  private readonly storage: RedisThrottlerStorage;
  private readonly local = new LocalThrottler();
  private readonly lockBudget: RedisLockBudget;
  private readonly localLockBudget = new LocalLockBudget();
  private readonly fallback = new RedisFallback('LoginAttempts', 'login attempts');
  private redisRetryAt = 0;

  constructor(
    redis: RedisService,
    private readonly config: AppConfig,
  ) {
    this.storage = new RedisThrottlerStorage(redis);
    this.lockBudget = new RedisLockBudget(redis);
  }

  /**
   * Counts an attempt against `subject` (`user:<id>` or `email:<normalized>`) from `ip`, and
   * against the client; throws RATE_LIMITED (with Retry-After) once over either limit.
   */
  async begin(subject: string, ip: string): Promise<void> {
    const { loginMaxFailures, loginFailureWindowSeconds, loginIpMaxAttempts } = this.config.auth;
    const windowMs = loginFailureWindowSeconds * 1000;
    const client = ipBucket(ip, LOGIN_IPV6_PREFIX);
    const [perSubject, perIp] = await Promise.all([
      this.count('login', hashKey(subject, client), windowMs, loginMaxFailures),
      this.count('login-ip', hashKey(client), windowMs, loginIpMaxAttempts),
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

  /** A successful login: the account's counts start again, and the client gets its attempt back. */
  async succeeded(subject: string, ip: string, userId: string): Promise<void> {
    const client = ipBucket(ip, LOGIN_IPV6_PREFIX);
    const subjectKey = hashKey(subject, client);
    const ipKey = hashKey(client);
    const account = hashKey(userId);
    const lock = this.config.auth.lockAfterFailures > 0;
    this.local.reset(`login:${subjectKey}`);
    this.local.release(`login-ip:${ipKey}`);
    if (lock) this.localLockBudget.succeed(account);
    // One bounded wait for the three: a login waits on Redis three times (begin, reserve, then
    // this or failedPassword), and during an outage only the first wait is spent (redis()).
    await this.redis(() =>
      Promise.all([
        this.storage.reset(subjectKey, 'login'),
        this.storage.release(ipKey, 'login-ip'),
        lock ? this.lockBudget.succeed(account) : undefined,
      ]),
    ).catch(() => undefined);
  }

  /** The account's password was verified (a login or a password change): its failures are forgotten. */
  async verifiedPassword(userId: string): Promise<void> {
    if (this.config.auth.lockAfterFailures <= 0) return;
    const account = hashKey(userId);
    this.localLockBudget.succeed(account);
    await this.redis(() => this.lockBudget.succeed(account)).catch(() => undefined);
  }

  /** The password was reset through a mailed link: the lock count starts again (the row's lock is lifted too). */
  async unlock(userId: string): Promise<void> {
    const account = hashKey(userId);
    this.localLockBudget.clear(account);
    await this.redis(() => this.lockBudget.clear(account)).catch(() => undefined);
  }

  /**
   * Reserves a place in the account's lock count before its password is verified. Refused when
   * wrong passwords plus checks in flight already reach LOGIN_LOCK_AFTER_FAILURES: the caller
   * answers ACCOUNT_LOCKED without verifying. Every granted reservation ends in
   * {@link failedPassword}, {@link succeeded} or {@link release}.
   */
  async reserve(userId: string): Promise<Reservation> {
    const { lockAfterFailures, lockSeconds } = this.config.auth;
    if (lockAfterFailures <= 0) return { granted: true };
    const account = hashKey(userId);
    return this.withFallback(
      () => this.lockBudget.reserve(account, lockAfterFailures, lockSeconds * 1000),
      () => this.localLockBudget.reserve(account, lockAfterFailures, lockSeconds * 1000),
    );
  }

  /**
   * A wrong password for the account (its reservation becomes a failure). True for exactly the
   * failure that reaches LOGIN_LOCK_AFTER_FAILURES: the caller locks the account, and the count
   * stays full until the lock ends.
   */
  async failedPassword(userId: string): Promise<boolean> {
    const { lockAfterFailures, lockSeconds } = this.config.auth;
    if (lockAfterFailures <= 0) return false;
    const account = hashKey(userId);
    return this.withFallback(
      () => this.lockBudget.fail(account, lockAfterFailures, lockSeconds * 1000),
      () => this.localLockBudget.fail(account, lockAfterFailures, lockSeconds * 1000),
    );
  }

  /** Gives a reservation back unused (the check did not happen, e.g. AUTH_BUSY). */
  async release(userId: string): Promise<void> {
    if (this.config.auth.lockAfterFailures <= 0) return;
    const account = hashKey(userId);
    this.localLockBudget.release(account);
    await this.redis(() => this.lockBudget.release(account)).catch(() => undefined);
  }

  private count(name: string, key: string, windowMs: number, limit: number): Promise<ThrottlerStorageRecord> {
    return this.withFallback(
      () => this.storage.increment(key, windowMs, limit, windowMs, name),
      () => this.local.increment(`${name}:${key}`, windowMs, limit, windowMs),
    );
  }

  /** Redis first (bounded); while it is unreachable, the in-process count decides. */
  private withFallback<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    return this.fallback.run(() => this.redis(remote), local);
  }

  /**
   * One Redis call, bounded. After a failure Redis is not asked again for REDIS_RETRY_MS: during
   * an outage a login waits on it once, not at every step (the steps fall back at once).
   */
  private async redis<T>(call: () => Promise<T>): Promise<T> {
    if (Date.now() < this.redisRetryAt)
      throw new TimeoutError('Redis (login attempts) did not answer recently', 'redis');
    try {
      return await lagTolerantTimeout(call(), REDIS_BOUND_MS, 'Redis (login attempts)');
    } catch (err) {
      this.redisRetryAt = Date.now() + REDIS_RETRY_MS;
      throw err;
    }
  }
}

/**
 * Like withTimeout, but a bound that runs out is checked once more after pending I/O has been
 * read. Under a flood the event loop lags: the timer phase comes before the I/O poll phase, so a
 * timer that expired during a long turn fires before a Redis reply already waiting in the socket
 * is read, and a healthy Redis looked "unreachable". That sent the brakes to the per-process
 * fallback and doubled the lock threshold across two instances (test/users/login-concurrency).
 * setImmediate runs after the poll phase, so only a reply that has truly not arrived times out.
 */
function lagTolerantTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let settled = false;
  const tracked = p.finally(() => {
    settled = true;
  });
  const expired = new Promise<never>((_, reject) => {
    const t = setTimeout(
      () =>
        setImmediate(() => {
          if (!settled) reject(new TimeoutError(`${what} did not answer within ${ms} ms`, 'redis'));
        }),
      ms,
    );
    t.unref();
    void tracked.finally(() => clearTimeout(t)).catch(() => undefined);
  });
  return Promise.race([tracked, expired]);
}

/** Fixed-length keys whatever the input (emails and IPv6 addresses included). */
function hashKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);
}
