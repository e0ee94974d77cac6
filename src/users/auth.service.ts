import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { LoginAudit, LoginEvent } from '../audit';
import { MailService } from '../notifications';
import { AppConfig } from '../infra/config/app-config';
import { RateLimitedError } from '../infra/throttling';
import { AccessTokens } from './access-tokens.service';
import type { ClientInfo } from './client-info';
import { AccountLockedError, AuthBusyError, InvalidCredentialsError } from './auth.errors';
import { LoginAttempts } from './login-attempts.service';
import { EmailVerification } from './email-verification.service';
import { PasswordHasher } from './password-hasher.service';
import { needsRehash } from './passwords';
import { RefreshTokens } from './refresh-tokens.service';
import { UsersService, normalizeEmail, toProfile } from './users.service';
import type { UserProfile } from './users.types';

export interface AuthResult {
  user: { id: string; email: string; name: string; role: UserProfile['role'] };
  accessToken: string;
  refreshToken: string;
}

export type { ClientInfo };

/**
 * Sign-up, sign-in, token refresh and sign-out. Slow or fallible side work (the audit row, the
 * welcome mail with its email-verification link) is handed to queues; the request waits at most
 * for the enqueue.
 */
@Injectable()
export class AuthService implements OnModuleDestroy {
  /** Hash upgrades started after a response; shutdown waits for them while MySQL is open. */
  private readonly upgrades = new Set<Promise<void>>();
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly users: UsersService,
    private readonly access: AccessTokens,
    private readonly refresh: RefreshTokens,
    private readonly attempts: LoginAttempts,
    private readonly audit: LoginAudit,
    private readonly mail: MailService,
    private readonly config: AppConfig,
    private readonly hasher: PasswordHasher,
    private readonly verification: EmailVerification,
  ) {}

  async register(
    input: { email: string; password: string; name: string },
    _client: ClientInfo,
  ): Promise<AuthResult> {
    const user = await this.users.create({
      email: input.email,
      name: input.name,
      passwordHash: await this.hasher.hash(input.password),
      role: 'customer',
    });
    await this.mail
      .send({
        template: 'welcome',
        to: user.email,
        data: { name: user.name, email: user.email, verifyUrl: this.verification.link(user).url },
        dedupeKey: `welcome:${user.id}`,
      })
      .catch((err: Error) => this.logger.warn(`welcome mail for ${user.id} not queued: ${err.message}`));
    return this.startSession(user);
  }

  async login(input: { email: string; password: string }, client: ClientInfo): Promise<AuthResult> {
    return this.startSession(await this.authenticate(input, client));
  }

  /**
   * Checks an email and password (POST /auth/login, the Bull Board's Basic credentials) through
   * the brute-force brakes, the account lock and the audit trail. The account is looked up
   * first so every limit is keyed on it (see LoginAttempts). Everything is counted before the
   * password is verified: the client's attempts, and a reserved place in the account's lock
   * count, so concurrent guesses cannot outrun the lock. The verification itself waits for a
   * hashing slot (PasswordHasher).
   */
  async authenticate(input: { email: string; password: string }, client: ClientInfo): Promise<UserProfile> {
    const email = normalizeEmail(input.email);
    const user = await this.users.findCredentials(email);
    const subject = user ? `user:${user.id}` : `email:${email}`;
    const event = (e: Pick<LoginEvent, 'outcome' | 'reason'>): LoginEvent => ({
      event: 'login',
      email,
      ip: client.ip,
      userAgent: client.userAgent,
      userId: user?.id ?? null,
      ...e,
    });
    try {
      await this.attempts.begin(subject, client.ip);
    } catch (err) {
      if (err instanceof RateLimitedError)
        await this.audit.record(event({ outcome: 'failure', reason: 'rate_limited' }));
      throw err;
    }
    const lockedFor = user?.lockedUntil ? Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000) : 0;
    if (lockedFor > 0) {
      await this.audit.record(event({ outcome: 'failure', reason: 'locked' }));
      throw new AccountLockedError(lockedFor);
    }
    if (user) {
      const place = await this.attempts.reserve(user.id);
      if (!place.granted) {
        await this.audit.record(event({ outcome: 'failure', reason: 'locked' }));
        throw new AccountLockedError(place.retryAfterSeconds);
      }
    }
    let ok: boolean;
    try {
      ok = await this.hasher.verify(user?.passwordHash, input.password);
    } catch (err) {
      if (user) await this.attempts.release(user.id);
      if (err instanceof AuthBusyError)
        await this.audit.record(event({ outcome: 'failure', reason: 'busy' }));
      throw err;
    }
    if (!user || !ok) {
      if (user && (await this.attempts.failedPassword(user.id))) {
        const until = new Date(Date.now() + this.config.auth.lockSeconds * 1000);
        await this.users.lock(user.id, until);
        this.logger.warn(
          `account ${user.id} locked until ${until.toISOString()} after repeated wrong passwords`,
        );
      }
      await this.audit.record(
        event({ outcome: 'failure', reason: user ? 'wrong_password' : 'unknown_email' }),
      );
      throw new InvalidCredentialsError();
    }
    await this.attempts.succeeded(subject, client.ip, user.id);
    await this.audit.record(event({ outcome: 'success', reason: null }));
    if (needsRehash(user.passwordHash)) {
      const upgrade = this.upgradeHash(user.id, user.passwordHash, input.password);
      this.upgrades.add(upgrade);
      // After the response, on purpose: upgradeHash catches and logs; onModuleDestroy awaits it.
      void upgrade.finally(() => this.upgrades.delete(upgrade));
    }
    return toProfile(user);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.upgrades]);
  }

  /**
   * After the response: a hash made with older parameters is replaced (conditional on it being
   * unchanged). A failure only logs; the next login tries again.
   */
  private async upgradeHash(userId: string, previous: string, password: string): Promise<void> {
    try {
      if (await this.users.replaceHash(userId, previous, await this.hasher.hash(password)))
        this.logger.log(`password hash of ${userId} upgraded to the current parameters`);
    } catch (err) {
      this.logger.warn(`password hash of ${userId} not upgraded: ${(err as Error).message}`);
    }
  }

  async refreshTokens(token: string): Promise<AuthResult> {
    const { userId, refreshToken } = await this.refresh.rotate(token);
    const user = await this.users.findById(userId, { primary: true });
    if (!user) throw new InvalidCredentialsError();
    return { user: publicUser(user), accessToken: this.access.sign(user), refreshToken };
  }

  async logout(userId: string, refreshToken: string | undefined, client: ClientInfo): Promise<void> {
    if (refreshToken) await this.refresh.revokeSession(userId, refreshToken);
    else await this.refresh.revokeAllOf(userId);
    const user = await this.users.findById(userId, { primary: true });
    await this.audit.record({
      event: 'logout',
      outcome: 'success',
      reason: 'logout',
      userId,
      email: user?.email ?? '',
      ip: client.ip,
      userAgent: client.userAgent,
    });
  }

  private async startSession(user: UserProfile): Promise<AuthResult> {
    const refreshToken = await this.refresh.issue(user.id);
    return { user: publicUser(user), accessToken: this.access.sign(user), refreshToken };
  }
}

export const publicUser = (u: UserProfile): AuthResult['user'] => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
});
