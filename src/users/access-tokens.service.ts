import { Injectable } from '@nestjs/common';
import { JsonWebTokenError, TokenExpiredError as JwtExpired, sign, verify } from 'jsonwebtoken';
import { KeyObject, createSecretKey } from 'node:crypto';
import type { AuthUser } from '../common/auth';
import { UnauthenticatedError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
import { TokenExpiredError } from './auth.errors';

interface AccessClaims {
  sub: string;
  role: AuthUser['role'];
  /** Present (true) only when the account's email address is verified. */
  ev?: true;
}

/** Verified tokens remembered at most. */
const VERIFIED_MAX = 20000;

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i;

/**
 * Short-lived HS256 access tokens. Only HS256 is accepted: `alg: none` or RS/HS confusion fail.
 *
 * The secret is turned into a KeyObject once: given a string, jsonwebtoken first tries to parse
 * it as a PEM public key (and catches the failure) on every call, which cost ~1 ms of CPU per
 * authenticated request — it capped every authenticated route near 1,000 req/s on 2 cores.
 *
 * Verified tokens are remembered (bounded, until their own `exp`): a client sends the same
 * token with every request, and re-checking an HMAC over identical bytes can only give the same
 * answer. Only successes are cached, each entry is dropped at the token's expiry, and nothing
 * about a token can change before then (access tokens are not revocable by design: short TTL,
 * revocation happens on the refresh token).
 */
@Injectable()
export class AccessTokens {
  private readonly key: KeyObject;
  /**
   * Bounded by insertion order (the oldest entry goes when full), not by use: a lookup is then a
   * bare Map get (lru-cache's get showed as ~2% of the edge cart's CPU profile), and a token
   * pushed out while still in use only costs one more HMAC.
   */
  private readonly verified = new Map<string, { user: AuthUser; expMs: number }>();

  constructor(private readonly config: AppConfig) {
    this.key = createSecretKey(Buffer.from(config.auth.jwtSecret, 'utf8'));
  }

  sign(user: { id: string; role: AuthUser['role']; emailVerified?: boolean }): string {
    const claims: AccessClaims = { sub: user.id, role: user.role };
    if (user.emailVerified) claims.ev = true;
    return sign(claims, this.key, { algorithm: 'HS256', expiresIn: this.config.auth.accessTtlSeconds });
  }

  /**
   * The caller named by an `authorization` header value (`Bearer <token>`), or undefined for a
   * missing, malformed, invalid or expired one — for callers that pass those on to the guard.
   */
  fromAuthorization(header: string | undefined): AuthUser | undefined {
    const m = header ? BEARER.exec(header) : null;
    if (!m) return undefined;
    try {
      return this.verify(m[1]);
    } catch {
      return undefined;
    }
  }

  /** The caller named by a token; throws UNAUTHENTICATED (or TOKEN_EXPIRED) for anything else. */
  verify(token: string): AuthUser {
    const hit = this.verified.get(token);
    if (hit) {
      if (Date.now() < hit.expMs) return hit.user;
      this.verified.delete(token);
    }
    let claims: Partial<AccessClaims> & { exp?: number };
    try {
      const decoded = verify(token, this.key, { algorithms: ['HS256'] });
      if (typeof decoded === 'string') throw new JsonWebTokenError('unexpected payload');
      claims = decoded as Partial<AccessClaims> & { exp?: number };
    } catch (err) {
      if (err instanceof JwtExpired) throw new TokenExpiredError();
      throw new UnauthenticatedError('Invalid access token');
    }
    // Every token this service issues expires: one without `exp` (signed with a leaked secret,
    // say) would be valid forever, so it is refused.
    if (
      typeof claims.sub !== 'string' ||
      (claims.role !== 'customer' && claims.role !== 'admin') ||
      typeof claims.exp !== 'number'
    )
      throw new UnauthenticatedError('Invalid access token');
    const user: AuthUser = Object.freeze({
      id: claims.sub,
      role: claims.role,
      emailVerified: claims.ev === true,
    });
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { user, expMs: claims.exp * 1000 });
    return user;
  }
}
