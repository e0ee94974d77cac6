import { sign } from 'jsonwebtoken';
import { AppConfig } from '../infra/config/app-config';
import { AccessTokens } from './access-tokens.service';
import { TokenExpiredError } from './auth.errors';

const config = {
  auth: { jwtSecret: 'k'.repeat(40), accessTtlSeconds: 60, refreshTtlSeconds: 3600 },
} as AppConfig;

describe('AccessTokens', () => {
  afterEach(() => jest.useRealTimers());

  it('verifies its own tokens and answers a repeated token from the cache with the same caller', () => {
    const tokens = new AccessTokens(config);
    const t = tokens.sign({ id: 'u1', role: 'customer' });
    const first = tokens.verify(t);
    expect(first).toEqual({ id: 'u1', role: 'customer', emailVerified: false });
    expect(tokens.verify(t)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('carries the verified email as the `ev` claim, only when verified', () => {
    const tokens = new AccessTokens(config);
    const verified = tokens.sign({ id: 'u5', role: 'customer', emailVerified: true });
    expect(tokens.verify(verified)).toEqual({ id: 'u5', role: 'customer', emailVerified: true });
    const payload = (t: string) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());
    expect(payload(verified).ev).toBe(true);
    expect(payload(tokens.sign({ id: 'u6', role: 'customer', emailVerified: false }))).not.toHaveProperty(
      'ev',
    );
  });

  it('rejects a cached token once it expires', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const tokens = new AccessTokens(config);
    const t = tokens.sign({ id: 'u2', role: 'admin' });
    expect(tokens.verify(t)).toEqual({ id: 'u2', role: 'admin', emailVerified: false });
    jest.setSystemTime(new Date('2026-01-01T00:01:01Z'));
    expect(() => tokens.verify(t)).toThrow(TokenExpiredError);
  });

  it('never caches a failure: a token signed with another secret stays rejected', () => {
    const other = new AccessTokens({ auth: { ...config.auth, jwtSecret: 'x'.repeat(40) } } as AppConfig);
    const tokens = new AccessTokens(config);
    const forged = other.sign({ id: 'u3', role: 'admin' });
    expect(() => tokens.verify(forged)).toThrow('Invalid access token');
    expect(() => tokens.verify(forged)).toThrow('Invalid access token');
  });

  it('refuses a correctly signed token without an expiry (it would be valid forever)', () => {
    const tokens = new AccessTokens(config);
    const forever = sign({ sub: 'u4', role: 'admin' }, config.auth.jwtSecret, {
      algorithm: 'HS256',
      noTimestamp: true,
    });
    expect(() => tokens.verify(forever)).toThrow('Invalid access token');
    const withExp = sign({ sub: 'u4', role: 'admin' }, config.auth.jwtSecret, {
      algorithm: 'HS256',
      expiresIn: 60,
    });
    expect(tokens.verify(withExp)).toEqual({ id: 'u4', role: 'admin', emailVerified: false });
  });
});
