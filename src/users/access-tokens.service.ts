import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AuthUser } from '../common/auth';
import { UnauthenticatedError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
import { TokenExpiredError } from './auth.errors';

interface AccessClaims {
  sub: string;
  role: AuthUser['role'];
}

/** Short-lived HS256 access tokens. Only HS256 is accepted: `alg: none` or RS/HS confusion fail. */
@Injectable()
export class AccessTokens {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  sign(user: { id: string; role: AuthUser['role'] }): string {
    const claims: AccessClaims = { sub: user.id, role: user.role };
    return this.jwt.sign(claims, {
      algorithm: 'HS256',
      secret: this.config.auth.jwtSecret,
      expiresIn: this.config.auth.accessTtlSeconds,
    });
  }

  /** The caller named by a token; throws UNAUTHENTICATED (or TOKEN_EXPIRED) for anything else. */
  verify(token: string): AuthUser {
    let claims: Partial<AccessClaims>;
    try {
      claims = this.jwt.verify<AccessClaims>(token, {
        algorithms: ['HS256'],
        secret: this.config.auth.jwtSecret,
      });
    } catch (err) {
      if ((err as Error).name === 'TokenExpiredError') throw new TokenExpiredError();
      throw new UnauthenticatedError('Invalid access token');
    }
    if (typeof claims.sub !== 'string' || (claims.role !== 'customer' && claims.role !== 'admin'))
      throw new UnauthenticatedError('Invalid access token');
    return { id: claims.sub, role: claims.role };
  }
}
