import { Injectable, Logger } from '@nestjs/common';
import { LoginAudit, LoginEvent } from '../audit';
import { MailService } from '../notifications';
import { RateLimitedError } from '../infra/throttling';
import { AccessTokens } from './access-tokens.service';
import { InvalidCredentialsError } from './auth.errors';
import { LoginAttempts } from './login-attempts.service';
import { hashPassword, verifyPassword } from './passwords';
import { RefreshTokens } from './refresh-tokens.service';
import { UserProfile, UsersService, normalizeEmail } from './users.service';

export interface AuthResult {
  user: { id: string; email: string; name: string; role: UserProfile['role'] };
  accessToken: string;
  refreshToken: string;
}

/** Where a request came from, for throttling and the audit trail. */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

/**
 * Sign-up, sign-in, token refresh and sign-out. Slow or fallible side work (the audit row, the
 * welcome mail) is handed to queues; the request waits at most for the enqueue.
 */
@Injectable()
export class AuthService {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly users: UsersService,
    private readonly access: AccessTokens,
    private readonly refresh: RefreshTokens,
    private readonly attempts: LoginAttempts,
    private readonly audit: LoginAudit,
    private readonly mail: MailService,
  ) {}

  async register(
    input: { email: string; password: string; name: string },
    _client: ClientInfo,
  ): Promise<AuthResult> {
    const user = await this.users.create({
      email: input.email,
      name: input.name,
      passwordHash: await hashPassword(input.password),
      role: 'customer',
    });
    await this.mail
      .send({
        template: 'welcome',
        to: user.email,
        data: { name: user.name, email: user.email },
        dedupeKey: `welcome:${user.id}`,
      })
      .catch((err: Error) => this.logger.warn(`welcome mail for ${user.id} not queued: ${err.message}`));
    return this.startSession(user);
  }

  async login(input: { email: string; password: string }, client: ClientInfo): Promise<AuthResult> {
    const email = normalizeEmail(input.email);
    const event = (e: Pick<LoginEvent, 'outcome' | 'reason' | 'userId'>): LoginEvent => ({
      event: 'login',
      email,
      ip: client.ip,
      userAgent: client.userAgent,
      ...e,
    });
    try {
      await this.attempts.begin(email, client.ip);
    } catch (err) {
      if (err instanceof RateLimitedError)
        await this.audit.record(event({ outcome: 'failure', reason: 'rate_limited', userId: null }));
      throw err;
    }
    const user = await this.users.findCredentials(email);
    const ok = await verifyPassword(user?.passwordHash, input.password);
    if (!user || !ok) {
      await this.audit.record(
        event({
          outcome: 'failure',
          reason: user ? 'wrong_password' : 'unknown_email',
          userId: user?.id ?? null,
        }),
      );
      throw new InvalidCredentialsError();
    }
    await this.attempts.succeeded(email, client.ip);
    const result = await this.startSession(user);
    await this.audit.record(event({ outcome: 'success', reason: null, userId: user.id }));
    return result;
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

const publicUser = (u: UserProfile): AuthResult['user'] => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
});
