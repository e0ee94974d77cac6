import { ExecutionContext, SetMetadata, createParamDecorator } from '@nestjs/common';

/** The authenticated caller, as the auth guard puts it on the request (HTTP) or call (gRPC). */
export interface AuthUser {
  id: string;
  role: 'customer' | 'admin';
  email?: string;
  /**
   * The account's email address was verified when the access token was issued (its `ev` claim;
   * at most JWT_ACCESS_TTL_SECONDS old, and only ever behind in the unverified → verified
   * direction: a refresh picks a verification up). UsersService.isEmailVerified is authoritative. Always set by the auth guard; absent only on
   * callers built by hand (tests), which count as unverified.
   */
  emailVerified?: boolean;
}

export const IS_PUBLIC = 'auth:public';
export const ROLES = 'auth:roles';

/** The route needs no token. Everything else requires `authorization: Bearer <accessToken>`. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs one of these roles (on top of a valid token). */
export const Roles = (...roles: AuthUser['role'][]) => SetMetadata(ROLES, roles);

/** Where the guard stores the caller on an HTTP request or a gRPC call context. */
export const AUTH_USER_KEY = 'authUser';

/** Injects the authenticated caller into an HTTP handler or gRPC method parameter. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser | undefined => {
  if (ctx.getType() === 'rpc') {
    const call = ctx.switchToRpc().getContext() as Record<string, unknown>;
    return call[AUTH_USER_KEY] as AuthUser | undefined;
  }
  return (ctx.switchToHttp().getRequest() as Record<string, unknown>)[AUTH_USER_KEY] as AuthUser | undefined;
});
