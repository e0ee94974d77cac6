import { Injectable, Logger } from '@nestjs/common';
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { NotFoundError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
import { MailService } from '../notifications';
import { AccountLimits } from './account-limits';
import { EmailAlreadyVerifiedError, VerificationTokenError } from './auth.errors';
import { UsersService } from './users.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Email verification by a signed link: `<userId>.<expiry, unix seconds>.<HMAC-SHA256>`, the MAC
 * over the purpose, the user id, the address it was sent to and the expiry, with a key derived
 * from JWT_SECRET (HKDF, its own label: a token of one purpose never verifies as another). Nothing
 * is stored per link: a link is single-use because the first use marks the address verified and
 * any later one is refused (409 EMAIL_ALREADY_VERIFIED), and it is bound to the address, so it
 * would not verify another one. Rotating JWT_SECRET voids the links in flight (ask for a new one).
 */
@Injectable()
export class EmailVerification {
  private readonly logger = new Logger('EmailVerification');
  private readonly key: Buffer;

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly mail: MailService,
    private readonly limits: AccountLimits,
  ) {
    this.key = Buffer.from(
      hkdfSync('sha256', config.auth.jwtSecret, 'nest-commerce', 'email-verification v1', 32),
    );
  }

  /** The link to mail to `user` (valid EMAIL_VERIFICATION_TTL_SECONDS). */
  link(user: { id: string; email: string }): { url: string; expiresAt: number } {
    const exp = Math.floor(Date.now() / 1000) + this.config.auth.emailVerificationTtlSeconds;
    const token = `${user.id}.${exp}.${this.mac(user.id, user.email, exp)}`;
    return {
      url: `${this.config.auth.publicWebUrl}/verify-email?token=${encodeURIComponent(token)}`,
      expiresAt: exp,
    };
  }

  /**
   * Sends a new link to the caller (POST /users/me/email-verification): 409 when already
   * verified, 429 past ACCOUNT_MAIL_LIMIT account mails per window.
   */
  async resend(userId: string): Promise<void> {
    const user = await this.users.findCredentialsById(userId);
    if (!user) throw new NotFoundError('User', 'USER_NOT_FOUND');
    if (user.emailVerifiedAt) throw new EmailAlreadyVerifiedError();
    await this.limits.takeMail(user.id, { refuse: true });
    const { url, expiresAt } = this.link(user);
    await this.mail.send({
      template: 'verify-email',
      to: user.email,
      data: {
        name: user.name,
        verifyUrl: url,
        expiresInHours: Math.round(this.config.auth.emailVerificationTtlSeconds / 3600),
      },
      dedupeKey: `verify-email:${user.id}:${expiresAt}`,
    });
  }

  /**
   * Checks a token and marks the address verified. Refusals (400 VERIFICATION_TOKEN_INVALID for
   * anything malformed, forged or for another address; 400 VERIFICATION_TOKEN_EXPIRED; 409
   * EMAIL_ALREADY_VERIFIED for a used link) tell a forger nothing: the signature is checked
   * before the expiry and the account's state.
   */
  async confirm(token: string): Promise<void> {
    const [id, expRaw, mac, ...rest] = token.split('.');
    const exp = Number(expRaw);
    if (rest.length || !UUID.test(id ?? '') || !/^\d{1,12}$/.test(expRaw ?? '') || !mac)
      throw new VerificationTokenError();
    const user = await this.users.findCredentialsById(id);
    if (!user || !safeEqual(mac, this.mac(id, user.email, exp))) throw new VerificationTokenError();
    if (exp * 1000 <= Date.now()) throw new VerificationTokenError('expired');
    if (user.emailVerifiedAt || !(await this.users.markEmailVerified(user.id, user.email)))
      throw new EmailAlreadyVerifiedError();
    this.logger.log(`email of ${user.id} verified`);
  }

  private mac(id: string, email: string, exp: number): string {
    return createHmac('sha256', this.key).update(`verify-email\n${id}\n${email}\n${exp}`).digest('base64url');
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
