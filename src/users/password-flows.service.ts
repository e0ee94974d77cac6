import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { requestContext } from '../common/context/request-context';
import { UnauthenticatedError, UnavailableError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { QUEUES } from '../infra/queue/queues';
import { MailService } from '../notifications';
import { AccessTokens } from './access-tokens.service';
import { AccountLimits } from './account-limits';
import { AccountLockedError, InvalidCurrentPasswordError, ResetTokenError } from './auth.errors';
import { type AuthResult, type ClientInfo, publicUser } from './auth.service';
import { LoginAttempts } from './login-attempts.service';
import { PasswordHasher } from './password-hasher.service';
import { PasswordResetToken } from './password-reset-token.entity';
import { RefreshTokens } from './refresh-tokens.service';
import { UsersRepository } from './users.repository';
import { UsersService, toProfile } from './users.service';

export const PASSWORD_RESET_REQUEST_JOB = 'password-reset-request';
/** Bound on queueing the request when Redis is connected but does not answer (as MailService). */
const ENQUEUE_TIMEOUT_MS = 2000;
/** Reset tokens stay this long after their expiry (an expired link still answers "expired"). */
const PURGE_GRACE_MS = 86_400_000;

export interface PasswordResetRequestJob {
  email: string;
  requestId?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Password reset by a mailed single-use link, and password change. Both set the new hash, void
 * pending reset links and revoke every refresh-token family in one transaction, then mail the
 * owner a notice.
 *
 * A reset *request* looks the same whether or not the email names an account, in status, body
 * and time: the request path only counts the client (PASSWORD_RESET_IP_LIMIT) and queues a job;
 * the worker looks the account up, and only for an existing one (within ACCOUNT_MAIL_LIMIT)
 * stores the SHA-256 of a 256-bit token and mails the link.
 */
@Injectable()
export class PasswordFlows {
  private readonly logger = new Logger('PasswordFlows');

  constructor(
    @InjectQueue(QUEUES.users) private readonly queue: Queue,
    private readonly db: DbRouter,
    private readonly repo: UsersRepository,
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly attempts: LoginAttempts,
    private readonly limits: AccountLimits,
    private readonly access: AccessTokens,
    private readonly refresh: RefreshTokens,
    private readonly mail: MailService,
    private readonly config: AppConfig,
  ) {}

  /** POST /auth/password-reset: always 202 (or 429 for the client, 503 without Redis). */
  async requestReset(email: string, client: ClientInfo): Promise<void> {
    await this.limits.takeResetAttempt(client.ip);
    const job: PasswordResetRequestJob = { email, requestId: requestContext.requestId() };
    if (this.queue.client.status !== 'ready')
      throw new UnavailableError('Account mail is unavailable right now', 'UNAVAILABLE', 'redis');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        // A random delay: in a process that also consumes the queue (APP_ROLE=all), the extra work
        // for an existing account (insert, mail) would otherwise run right after this response,
        // within reach of the caller's next request's timing.
        this.queue.add(PASSWORD_RESET_REQUEST_JOB, job, { delay: randomInt(0, 1000) }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new UnavailableError('Account mail is unavailable right now', 'UNAVAILABLE', 'redis')),
            ENQUEUE_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The worker's half of a reset request: for an account (and within its mail budget) a new
   * token is stored and its link mailed. A retried job makes another token (the first one is
   * never mailed, and expires).
   */
  async handleResetRequest(job: PasswordResetRequestJob): Promise<'mailed' | 'no-account' | 'mail-limit'> {
    const user = await this.users.findCredentials(job.email);
    if (!user) return 'no-account';
    if (!(await this.limits.takeMail(user.id))) {
      this.logger.warn(`password-reset mail for ${user.id} not sent: ACCOUNT_MAIL_LIMIT reached`);
      return 'mail-limit';
    }
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    const ttl = this.config.auth.passwordResetTtlSeconds;
    const row: PasswordResetToken = {
      id: newId(),
      userId: user.id,
      tokenHash: sha256(token),
      expiresAt: new Date(now.getTime() + ttl * 1000),
      usedAt: null,
      createdAt: now,
    };
    await this.repo.insertResetToken(row);
    await this.mail.send({
      template: 'password-reset',
      to: user.email,
      data: {
        name: user.name,
        resetUrl: `${this.config.auth.publicWebUrl}/reset-password?token=${token}`,
        expiresInMinutes: Math.max(1, Math.round(ttl / 60)),
      },
      dedupeKey: `password-reset:${row.id}`,
    });
    return 'mailed';
  }

  /**
   * POST /auth/password-reset/confirm: spends the token (a conditional UPDATE: of two concurrent
   * uses one wins), sets the new password, lifts a lock, marks the address verified (the link
   * proved it), voids the account's other reset links and ends every session.
   */
  async confirmReset(token: string, password: string, client: ClientInfo): Promise<void> {
    await this.limits.takeResetAttempt(client.ip);
    const row = await this.repo.findResetToken(sha256(token));
    if (!row) throw new ResetTokenError('invalid');
    if (row.usedAt) throw new ResetTokenError('used');
    if (row.expiresAt.getTime() <= Date.now()) throw new ResetTokenError('expired');
    const hash = await this.hasher.hash(password);
    await this.db.transaction(async () => {
      const now = new Date();
      if (!(await this.repo.spendResetToken(row.id, now))) throw new ResetTokenError('used');
      await this.repo.setResetPassword(row.userId, hash, now);
      await this.afterPasswordSet(row.userId, now);
    });
    await this.attempts.unlock(row.userId);
    await this.notify(row.userId, 'reset');
  }

  /**
   * POST /users/me/password: the current password is checked like a login's (it counts towards
   * the account lock, reserved before the check, and waits for a hashing slot); then the new one
   * is set, every session — this one included — is revoked, and a new session is returned.
   */
  async change(userId: string, current: string, next: string): Promise<AuthResult> {
    const user = await this.users.findCredentialsById(userId);
    if (!user) throw new UnauthenticatedError();
    const lockedFor = user.lockedUntil ? Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000) : 0;
    if (lockedFor > 0) throw new AccountLockedError(lockedFor);
    const place = await this.attempts.reserve(user.id);
    if (!place.granted) throw new AccountLockedError(place.retryAfterSeconds);
    let ok: boolean;
    try {
      ok = await this.hasher.verify(user.passwordHash, current);
    } catch (err) {
      await this.attempts.release(user.id);
      throw err;
    }
    if (!ok) {
      if (await this.attempts.failedPassword(user.id)) {
        await this.users.lock(user.id, new Date(Date.now() + this.config.auth.lockSeconds * 1000));
        this.logger.warn(`account ${user.id} locked after repeated wrong current passwords`);
      }
      throw new InvalidCurrentPasswordError();
    }
    await this.attempts.verifiedPassword(user.id);
    const hash = await this.hasher.hash(next);
    const refreshToken = await this.db.transaction(async () => {
      const now = new Date();
      await this.repo.setPassword(user.id, hash, now);
      await this.afterPasswordSet(user.id, now);
      return this.refresh.issue(user.id);
    });
    await this.notify(user.id, 'change');
    const profile = toProfile(user);
    return { user: publicUser(profile), accessToken: this.access.sign(profile), refreshToken };
  }

  /** Deletes reset tokens that expired more than a day ago (the hourly users housekeeping). */
  async purgeExpired(): Promise<number> {
    return this.db.transaction(() => this.repo.purgeResetTokens(new Date(Date.now() - PURGE_GRACE_MS)));
  }

  /** In the password's transaction: pending reset links are void and every session ends. */
  private async afterPasswordSet(userId: string, now: Date): Promise<void> {
    await this.repo.voidResetTokensOf(userId, now);
    await this.refresh.revokeAllOf(userId);
  }

  /** The owner hears of every change of their password; a mail that cannot be queued only logs. */
  private async notify(userId: string, via: 'change' | 'reset'): Promise<void> {
    const user = await this.users.findById(userId, { primary: true });
    if (!user) return;
    await this.mail
      .send({
        template: 'password-changed',
        to: user.email,
        data: { name: user.name, email: user.email, via },
        dedupeKey: `password-changed:${user.id}:${Date.now()}`,
      })
      .catch((err: Error) =>
        this.logger.warn(`password-changed mail for ${user.id} not queued: ${err.message}`),
      );
  }
}
