import {
  ConflictError,
  DomainError,
  ForbiddenError,
  UnauthenticatedError,
} from '../common/errors/domain-error';
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

/**
 * 429 AUTH_BUSY with Retry-After: every password-hashing slot is taken and the wait queue is full
 * or the wait ran out (a login flood); nothing was checked, retry shortly.
 */
export class AuthBusyError extends RateLimitedError {
  constructor(retryAfterSeconds: number) {
    super(retryAfterSeconds, 'Too many sign-ins are being processed right now; retry shortly', 'AUTH_BUSY');
  }
}

/** 400: a verification link that is malformed, forged, for another address, or expired. */
export class VerificationTokenError extends DomainError {
  constructor(why: 'invalid' | 'expired' = 'invalid') {
    super(
      'invalid',
      why === 'expired' ? 'VERIFICATION_TOKEN_EXPIRED' : 'VERIFICATION_TOKEN_INVALID',
      why === 'expired'
        ? 'This verification link has expired; ask for a new one'
        : 'This verification link is not valid',
    );
  }
}

/** 409: the address is verified already (a verification link used a second time). */
export class EmailAlreadyVerifiedError extends ConflictError {
  constructor() {
    super('EMAIL_ALREADY_VERIFIED', 'This email address is already verified');
  }
}

/** 400: a password-reset token that is unknown, already used (or voided by a later reset), or expired. */
export class ResetTokenError extends DomainError {
  constructor(why: 'invalid' | 'used' | 'expired') {
    const codes = {
      invalid: 'RESET_TOKEN_INVALID',
      used: 'RESET_TOKEN_USED',
      expired: 'RESET_TOKEN_EXPIRED',
    };
    const messages = {
      invalid: 'This password-reset link is not valid',
      used: 'This password-reset link was already used; ask for a new one',
      expired: 'This password-reset link has expired; ask for a new one',
    };
    super('invalid', codes[why], messages[why]);
  }
}

/**
 * 403 INVALID_CURRENT_PASSWORD: a password change with the wrong current password. Not 401:
 * the caller's token is fine, and a client must not take this for "signed out". Counts towards
 * the account lock like a wrong login password.
 */
export class InvalidCurrentPasswordError extends ForbiddenError {
  constructor() {
    super('The current password is not correct', 'INVALID_CURRENT_PASSWORD');
  }
}
