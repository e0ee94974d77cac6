import { EntityManager } from 'typeorm';
import { CACHE_MANAGER } from '@nestjs/cache-manager';
import type { Cache } from 'cache-manager';
import Redis from 'ioredis';
import { adminToken } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createCategory } from './catalog-support';

/** Counts the category-tree loads every instance of this process sends to MySQL. */
function countTreeQueries() {
  const spy = jest.spyOn(EntityManager.prototype, 'query');
  return {
    count: () => spy.mock.calls.filter(([q]) => String(q).includes('FROM categories ORDER BY name')).length,
    restore: () => spy.mockRestore(),
  };
}

/**
 * Issue 21 / decision 0015: `@nestjs/cache-manager` is the app's CacheModule, over the shared
 * ioredis connection (a Keyv store, RedisKeyvStore). GET /categories uses CacheInterceptor
 * (HttpCacheInterceptor: public route, keyed by URL).
 */
describe('standard cache API: CacheInterceptor shared by two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  beforeAll(async () => {
    a = await startApp();
    b = await startApp();
    admin = await adminToken(a);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('answers a response one instance cached from the other instance, without a query', async () => {
    const cat = await createCategory(a, admin, 'Interceptor'); // drops every cached HTTP response
    const counter = countTreeQueries();
    try {
      const first = await http('GET', a.api('/categories'));
      expect(first.status).toBe(200);
      expect(first.headers.get('x-cache')).toBe('MISS');
      expect(first.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.stringify(first.body)).toContain(cat.id);
      expect(counter.count()).toBe(1);
      // The write to Redis happens after the answer: ask b until it is there.
      const onB = await eventually(async () => {
        const r = await http('GET', b.api('/categories'));
        return r.headers.get('x-cache') === 'HIT' ? r : undefined;
      });
      expect(onB.status).toBe(200);
      expect(onB.body).toEqual(first.body);
      expect(onB.headers.get('content-type')).toMatch(/^application\/json/);
      expect(counter.count()).toBe(1); // b answered from Redis: no second load
    } finally {
      counter.restore();
    }
  });

  it('keeps the entry under REDIS_PREFIX, in the cache namespace, with a TTL', async () => {
    await http('GET', a.api('/categories'));
    const redis = new Redis(a.config.redis.url);
    try {
      const keys = await eventually(async () => {
        const k = await redis.keys(`${a.config.redis.prefix}:cache:http:*`);
        return k.length ? k : undefined;
      });
      expect(keys.some((k) => /:cache:http:g\d+:public:\/api\/v1\/categories$/.test(k))).toBe(true);
      for (const k of keys) {
        const ttl = await redis.pttl(k);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('drops the cached response on every instance when a category is created on another', async () => {
    await eventually(async () => (await http('GET', a.api('/categories'))).headers.get('x-cache') === 'HIT');
    const cat = await createCategory(b, admin, 'AfterWrite');
    const res = await http('GET', a.api('/categories'));
    expect(JSON.stringify(res.body)).toContain(cat.id);
  });

  it('serves the standard CACHE_MANAGER API (get/set/del) shared across instances', async () => {
    const ca = a.app.get<Cache>(CACHE_MANAGER);
    const cb = b.app.get<Cache>(CACHE_MANAGER);
    await ca.set('greeting', { hello: 'world' }, 10_000);
    expect(await eventually(() => cb.get('greeting'))).toEqual({ hello: 'world' });
    await cb.del('greeting');
    expect(await ca.get('greeting')).toBeUndefined();
  });
});

describe('standard cache API: Redis down or black-holed', () => {
  let t: TestApp;
  let proxy: FaultProxy;
  beforeAll(async () => {
    const u = new URL(process.env.REDIS_URL!);
    proxy = new FaultProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    u.port = String(proxy.port);
    t = await startApp({ REDIS_URL: u.toString() });
    await eventually(async () => (await http('GET', t.api('/categories'))).headers.get('x-cache') === 'HIT');
  });
  afterAll(async () => {
    await proxy.set('pass');
    await t.close();
    await proxy.stop();
  });

  const burst = async (label: string) => {
    const started = Date.now();
    const res = await Promise.all(Array.from({ length: 20 }, () => http('GET', t.api('/categories'))));
    const ms = Date.now() - started;
    const statuses = res.map((r) => `${r.status} ${r.headers.get('x-cache')}`);
    console.log(`${label}: 20 GET /categories in ${ms} ms: ${JSON.stringify(countBy(statuses))}`);
    return { res, ms };
  };

  it('answers uncached (200, no hang) while Redis answers nothing, and caches again after', async () => {
    await proxy.set('blackhole');
    const { res, ms } = await burst('black-holed');
    for (const r of res) {
      expect(r.status).toBe(200);
      expect(Array.isArray(r.body)).toBe(true);
    }
    // A cache read gives up after 250 ms; generous slack for a shared machine.
    expect(ms).toBeLessThan(5000);
    // Redis answers again: the silent connection is replaced (REDIS_COMMAND_TIMEOUT_MS, decision
    // 0014) and the route is cached again, without a restart.
    await proxy.set('pass');
    await eventually(
      async () => (await http('GET', t.api('/categories'))).headers.get('x-cache') === 'HIT',
      20_000,
    );
  });

  it('answers uncached (200) while Redis refuses connections', async () => {
    await proxy.set('refuse');
    const { res } = await burst('refused');
    for (const r of res) {
      expect(r.status).toBe(200);
      expect(r.headers.get('x-cache')).toBe('MISS');
    }
    await proxy.set('pass');
  });
});

const countBy = (xs: string[]) =>
  xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});
