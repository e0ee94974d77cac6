import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_USER_KEY, AuthUser, IS_PUBLIC, ROLES } from '../common/auth';
import { requestContext } from '../common/context/request-context';
import { ForbiddenError, UnauthenticatedError } from '../common/errors/domain-error';
import { AccessTokens } from './access-tokens.service';

interface GrpcMetadataLike {
  get(key: string): Array<string | Buffer>;
}

/**
 * The one authentication mechanism, registered globally (APP_GUARD) for HTTP and gRPC alike:
 * `authorization: Bearer <accessToken>` from the HTTP headers or the gRPC call metadata.
 * Routes opt out with @Public() and narrow with @Roles(). The caller is stored on the request
 * (HTTP) or the Metadata object (gRPC) under AUTH_USER_KEY for @CurrentUser(), and in the
 * request context so replica routing can apply read-your-writes for this user.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: AccessTokens,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const type = ctx.getType();
    if (type !== 'http' && type !== 'rpc') return true;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const holder: Record<string, unknown> =
      type === 'rpc' ? ctx.switchToRpc().getContext() : ctx.switchToHttp().getRequest();
    const header = type === 'rpc' ? metadataValue(holder, 'authorization') : httpHeader(holder);
    if (!header) throw new UnauthenticatedError('Missing bearer token');
    const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
    if (!m) throw new UnauthenticatedError('Authorization must be "Bearer <accessToken>"');
    const user = this.tokens.verify(m[1]);

    const roles = this.reflector.getAllAndOverride<AuthUser['role'][] | undefined>(ROLES, targets);
    if (roles?.length && !roles.includes(user.role))
      throw new ForbiddenError(`Requires role ${roles.join(' or ')}`);

    holder[AUTH_USER_KEY] = user;
    const rc = requestContext.get();
    if (rc) {
      rc.userId = user.id;
      rc.role = user.role;
    }
    return true;
  }
}

function httpHeader(req: Record<string, unknown>): string | undefined {
  const v = (req.headers as Record<string, string | string[] | undefined> | undefined)?.authorization;
  return Array.isArray(v) ? v[0] : v;
}

function metadataValue(meta: Record<string, unknown>, key: string): string | undefined {
  const get = (meta as unknown as Partial<GrpcMetadataLike>).get;
  if (typeof get !== 'function') return undefined;
  const v = get.call(meta, key)[0];
  return v === undefined ? undefined : v.toString();
}
