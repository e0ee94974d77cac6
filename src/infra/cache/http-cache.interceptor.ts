import { ExecutionContext, Injectable } from '@nestjs/common';
import { CacheInterceptor } from '@nestjs/cache-manager';
import { AUTH_USER_KEY, AuthUser, IS_PUBLIC } from '../../common/auth';

/**
 * `CacheInterceptor` keyed so that no caller is served another caller's answer. The stock
 * interceptor keys GET responses by URL alone, which on a route that answers per caller would
 * hand one user's data to the next. Here:
 * - a `@Public()` route (its answer does not depend on the caller) is keyed by URL: `public:<url>`;
 * - any other route is keyed per authenticated user: `user:<id>:<url>`;
 * - no user on a non-public route (should not happen behind the auth guard): not cached.
 * `@CacheKey()` replaces the URL part as usual; `@CacheTTL()` sets the TTL (at most 60 s, see
 * RedisKeyvStore). Use it with `@UseInterceptors(HttpCacheInterceptor)` on a route or controller.
 */
@Injectable()
export class HttpCacheInterceptor extends CacheInterceptor {
  protected override async trackBy(context: ExecutionContext): Promise<string | undefined> {
    const key = await super.trackBy(context);
    if (!key) return undefined;
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return `public:${key}`;
    const user = (context.switchToHttp().getRequest() as Record<string, unknown>)[AUTH_USER_KEY] as
      AuthUser | undefined;
    return user ? `user:${user.id}:${key}` : undefined;
  }
}
