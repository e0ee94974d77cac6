import { ConflictError, UnauthenticatedError } from '../common/errors/domain-error';
import { RateLimitedError } from '../infra/throttling';

export class EmailTakenError extends ConflictError {
  constructor() {
    super('EMAIL_TAKEN', 'An account with this email already exists');
  }
}

/** Same answer for an unknown email and a wrong password, so accounts cannot be enumerated. */
export class InvalidCredentialsError extends UnauthenticatedError {
  constructor() {
    super('Invalid email or password', 'INVALID_CREDENTIALS');
  }
}

export class TokenExpiredError extends UnauthenticatedError {
  constructor(what = 'Access token') {
    super(`${what} expired`, 'TOKEN_EXPIRED');
  }
}

export class InvalidRefreshTokenError extends UnauthenticatedError {
  constructor(message = 'Invalid refresh token', code = 'INVALID_REFRESH_TOKEN') {
    super(message, code);
  }
}

/** A rotated refresh token came back: it was stolen or replayed, so its whole family is revoked. */
export class RefreshTokenReusedError extends UnauthenticatedError {
  constructor() {
    super('Refresh token already used; every session of this login was revoked', 'REFRESH_TOKEN_REUSED');
  }
}

/**
 * 429 ACCOUNT_LOCKED with Retry-After: too many wrong passwords for this account (from any
 * address); refused even with the right password until the lock ends. 429 rather than 423:
 * clients already back off on 429 + Retry-After, and the code tells the two causes apart.
 */
export class AccountLockedError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super(
      retryAfterSeconds,
      'This account is temporarily locked after too many failed logins',
      'ACCOUNT_LOCKED',
    );
  }
}
