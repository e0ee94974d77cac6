import { Metadata } from '@grpc/grpc-js';
import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_USER_KEY, IS_PUBLIC, ROLES } from '../common/auth';
import { requestContext } from '../common/context/request-context';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
import { AccessTokens } from './access-tokens.service';
import { AuthGuard } from './auth.guard';

const config = {
  auth: { jwtSecret: 's'.repeat(40), accessTtlSeconds: 60, refreshTtlSeconds: 3600 },
} as AppConfig;
const tokens = new AccessTokens(config);

function handler(meta: Record<string, unknown> = {}) {
  const fn = () => undefined;
  for (const [k, v] of Object.entries(meta)) Reflect.defineMetadata(k, v, fn);
  return fn;
}

function rpcContext(metadata: Metadata, fn = handler()): ExecutionContext {
  return {
    getType: () => 'rpc',
    getHandler: () => fn,
    getClass: () => class {},
    switchToRpc: () => ({ getData: () => ({}), getContext: () => metadata }),
  } as unknown as ExecutionContext;
}

function httpContext(headers: Record<string, string>, fn = handler()): ExecutionContext {
  const req = { headers } as Record<string, unknown>;
  return {
    getType: () => 'http',
    getHandler: () => fn,
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as DomainError).code;
  }
  return undefined;
};

describe('AuthGuard: one mechanism for HTTP and gRPC', () => {
  const guard = new AuthGuard(new Reflector(), tokens);
  const customer = tokens.sign({ id: 'u-1', role: 'customer' });

  it('reads the bearer token from gRPC metadata and puts the caller on the Metadata object and the request context', () => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${customer}`);
    const ctx = { requestId: 'r' } as { requestId: string; userId?: string; role?: string };
    expect(requestContext.run(ctx, () => guard.canActivate(rpcContext(md)))).toBe(true);
    expect((md as unknown as Record<string, unknown>)[AUTH_USER_KEY]).toEqual({
      id: 'u-1',
      role: 'customer',
      emailVerified: false,
    });
    expect(ctx).toMatchObject({ userId: 'u-1', role: 'customer' });
  });

  it('rejects gRPC calls without or with a bad token (UNAUTHENTICATED) and a wrong role (FORBIDDEN)', () => {
    expect(codeOf(() => guard.canActivate(rpcContext(new Metadata())))).toBe('UNAUTHENTICATED');
    const bad = new Metadata();
    bad.set('authorization', 'Bearer nope.nope.nope');
    expect(codeOf(() => guard.canActivate(rpcContext(bad)))).toBe('UNAUTHENTICATED');
    const md = new Metadata();
    md.set('authorization', `Bearer ${customer}`);
    expect(codeOf(() => guard.canActivate(rpcContext(md, handler({ [ROLES]: ['admin'] }))))).toBe(
      'FORBIDDEN',
    );
  });

  it('lets @Public() routes through without a token and reads HTTP headers the same way', () => {
    expect(guard.canActivate(httpContext({}, handler({ [IS_PUBLIC]: true })))).toBe(true);
    expect(codeOf(() => guard.canActivate(httpContext({})))).toBe('UNAUTHENTICATED');
    expect(guard.canActivate(httpContext({ authorization: `Bearer ${customer}` }))).toBe(true);
  });
});
