import { ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { AUTH_USER_KEY, IS_PUBLIC } from '../../common/auth';
import { HttpCacheInterceptor } from './http-cache.interceptor';

/** Keys CacheInterceptor would use for a GET of `url` on a handler with `meta`, as `user` (or anonymous). */
function keyFor(url: string, opts: { isPublic?: boolean; user?: string; method?: string }): Promise<unknown> {
  const handler = () => undefined;
  if (opts.isPublic) Reflect.defineMetadata(IS_PUBLIC, true, handler);
  const req: Record<string, unknown> = { method: opts.method ?? 'GET', url };
  if (opts.user) req[AUTH_USER_KEY] = { id: opts.user, role: 'customer' };
  const ctx = {
    getHandler: () => handler,
    getClass: () => class {},
    getArgByIndex: () => req,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
  const interceptor = new HttpCacheInterceptor({}, new Reflector());
  (interceptor as unknown as { httpAdapterHost: HttpAdapterHost }).httpAdapterHost = {
    httpAdapter: { getRequestMethod: () => req.method, getRequestUrl: (r: { url: string }) => r.url },
  } as unknown as HttpAdapterHost;
  return (interceptor as unknown as { trackBy(c: ExecutionContext): Promise<unknown> }).trackBy(ctx);
}

describe('HttpCacheInterceptor: no caller is served another caller’s answer', () => {
  it('keys a public route by URL alone, whoever asks', async () => {
    expect(await keyFor('/api/v1/categories?x=1', { isPublic: true })).toBe('public:/api/v1/categories?x=1');
    expect(await keyFor('/api/v1/categories', { isPublic: true, user: 'u1' })).toBe(
      'public:/api/v1/categories',
    );
  });

  it('keys any other route per authenticated user, and does not cache without one', async () => {
    expect(await keyFor('/api/v1/orders', { user: 'u1' })).toBe('user:u1:/api/v1/orders');
    expect(await keyFor('/api/v1/orders', { user: 'u2' })).toBe('user:u2:/api/v1/orders');
    expect(await keyFor('/api/v1/orders', {})).toBeUndefined();
  });

  it('caches GET only', async () => {
    expect(await keyFor('/api/v1/categories', { isPublic: true, method: 'POST' })).toBeUndefined();
  });
});
