import Redis from 'ioredis';
import { EntityManager } from 'typeorm';
import { MetricsService } from '../../src/infra/observability/metrics.service';
import { adminToken } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createCategory, createProduct, tag } from './catalog-support';

const MISSING = '0190a5b0-0000-7000-8000-00000000dead';

/**
 * Database reads are counted at the driver boundary: every EntityManager (primary and replica)
 * shares EntityManager.prototype.query, so a spy there sees each SQL statement the process sends;
 * the product-detail load is recognised by its SQL.
 */
function countDetailQueries(id?: string) {
  const spy = jest.spyOn(EntityManager.prototype, 'query');
  return {
    count: () =>
      spy.mock.calls.filter(
        ([sql, params]) =>
          String(sql).includes('FROM products p LEFT JOIN product_variants') &&
          (!id || (params as unknown[] | undefined)?.[0] === id),
      ).length,
    restore: () => spy.mockRestore(),
  };
}

const cacheMetric = async (t: TestApp, name: string, label: string) => {
  const text = await t.app.get(MetricsService).registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${label}}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

describe('catalog cache: single flight, cross-instance invalidation, negative caching', () => {
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

  it('answers 500 concurrent GETs of a cold product with one database query', async () => {
    const p = await createProduct(a, admin, { name: 'Cold product' });
    const counter = countDetailQueries(p.id);
    const loadsBefore = await cacheMetric(b, 'shop_cache_loads_total', 'namespace="product"');
    try {
      const res = await Promise.all(
        Array.from({ length: 500 }, () => http('GET', b.api(`/products/${p.id}`))),
      );
      expect(res.every((r) => r.status === 200 && r.body.id === p.id)).toBe(true);
      expect(counter.count()).toBe(1);
      expect((await cacheMetric(b, 'shop_cache_loads_total', 'namespace="product"')) - loadsBefore).toBe(1);
      // Another instance, cold in L1, is served by L2 (Redis) without touching the database.
      const onA = await http('GET', a.api(`/products/${p.id}`));
      expect(onA.status).toBe(200);
      expect(counter.count()).toBe(1);
    } finally {
      counter.restore();
    }
    expect(await cacheMetric(b, 'shop_cache_hits_total', 'tier="l1"')).toBeGreaterThan(0);
    expect(await cacheMetric(a, 'shop_cache_hits_total', 'tier="l2"')).toBeGreaterThan(0);
  });

  it('shows an admin price change on a second instance within the L1 TTL', async () => {
    const p = await createProduct(a, admin, { name: 'Repriced', price: 5000 });
    expect((await http('GET', b.api(`/products/${p.id}`))).body.variants[0].price).toBe(5000);
    expect((await http('GET', b.api(`/products/${p.id}`))).body.variants[0].price).toBe(5000); // now an L1 hit
    const changedAt = Date.now();
    const patch = await http('PATCH', a.api(`/products/${p.id}`), {
      token: admin,
      body: { variants: [{ sku: p.sku, price: 4200, currency: 'EUR' }] },
    });
    expect(patch.status).toBe(200);
    await eventually(
      async () => (await http('GET', b.api(`/products/${p.id}`))).body.variants[0].price === 4200,
      3000,
      20,
    );
    const l1TtlMs = 3000;
    expect(Date.now() - changedAt).toBeLessThan(l1TtlMs);
  });

  it('queries a missing id once per negative TTL, however often it is asked for', async () => {
    const counter = countDetailQueries(MISSING);
    try {
      const burst = await Promise.all(
        Array.from({ length: 50 }, () => http('GET', a.api(`/products/${MISSING}`))),
      );
      expect(burst.every((r) => r.status === 404 && r.body.code === 'PRODUCT_NOT_FOUND')).toBe(true);
      for (let i = 0; i < 20; i++)
        expect((await http('GET', a.api(`/products/${MISSING}`))).status).toBe(404);
      expect((await http('GET', b.api(`/products/${MISSING}`))).status).toBe(404); // L2 holds the 404 too
      expect(counter.count()).toBe(1);
      await new Promise((r) => setTimeout(r, 5200)); // negative TTL: 5 s
      expect((await http('GET', a.api(`/products/${MISSING}`))).status).toBe(404);
      expect(counter.count()).toBe(2);
    } finally {
      counter.restore();
    }
  });

  it('does not serve an archived product from cache after DELETE', async () => {
    const p = await createProduct(a, admin, { name: 'Archived soon' });
    expect((await http('GET', b.api(`/products/${p.id}`))).status).toBe(200);
    expect((await http('DELETE', a.api(`/products/${p.id}`), { token: admin })).status).toBe(204);
    await eventually(async () => (await http('GET', b.api(`/products/${p.id}`))).status === 404, 3000, 20);
  });

  it('drops cached first listing pages on every instance when a product is created', async () => {
    const brand = `Inv${tag()}`;
    await createProduct(a, admin, { name: 'one', brand });
    await eventually(
      async () => (await http('GET', b.api(`/products?brand=${brand}`))).body.items.length === 1,
    );
    await createProduct(a, admin, { name: 'two', brand });
    await eventually(
      async () => (await http('GET', b.api(`/products?brand=${brand}`))).body.items.length === 2,
      3000,
      20,
    );
  });
});

describe('catalog cache: Redis unreachable', () => {
  let t: TestApp;
  let proxy: FaultProxy;
  let productId: string;
  let categoryId: string;
  beforeAll(async () => {
    const u = new URL(process.env.REDIS_URL!);
    proxy = new FaultProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    u.port = String(proxy.port);
    t = await startApp({ REDIS_URL: u.toString() });
    const admin = await adminToken(t);
    categoryId = (await createCategory(t, admin, 'Outage')).id;
    productId = (await createProduct(t, admin, { name: 'Served without Redis', categoryId })).id;
    await http('GET', t.api(`/products/${productId}`)); // warm
  });
  afterAll(async () => {
    await proxy.set('pass');
    await t.close();
    await proxy.stop();
  });

  it('keeps answering product, listing and category reads from the database', async () => {
    await proxy.set('refuse');
    const cold = await createColdReads();
    for (const r of cold) expect(r.status).toBe(200);
    const missing = await http('GET', t.api(`/products/${MISSING}`));
    expect(missing.status).toBe(404);
  });

  async function createColdReads() {
    // L1 entries expire within 3 s; wait that out so these reads must reach the database.
    await new Promise((r) => setTimeout(r, 3100));
    return Promise.all([
      http('GET', t.api(`/products/${productId}`)),
      http('GET', t.api(`/products?categoryId=${categoryId}`)),
      http('GET', t.api('/products?sort=price_asc&limit=5')),
      http('GET', t.api('/categories')),
    ]);
  }
});

describe('catalog cache: Redis memory of request-keyed entries is budgeted', () => {
  let t: TestApp;
  let admin: string;
  let redis: Redis;
  beforeAll(async () => {
    t = await startApp({ CACHE_REDIS_BUDGET_MB: '1' });
    admin = await adminToken(t);
    redis = new Redis(t.config.redis.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await t.close();
  });

  it('stops writing distinct listings to Redis once the budget is spent, and still caches product pages', async () => {
    const brand = `Budget${tag()}`;
    for (let i = 0; i < 30; i++)
      await createProduct(t, admin, {
        name: `${'Budgeted listing entry '.repeat(8)}${i}`,
        brand,
        price: 100_000,
      });
    const before = await cacheMetric(t, 'shop_cache_l2_writes_total', 'result="over_budget"');
    for (let i = 0; i < 120; i++) {
      const res = await http('GET', t.api(`/products?brand=${brand}&minPrice=${i}&limit=30`));
      expect(res.status).toBe(200); // over budget only means "not in Redis": the answer is the same
      expect(res.body.items).toHaveLength(30);
    }
    expect(
      (await cacheMetric(t, 'shop_cache_l2_writes_total', 'result="over_budget"')) - before,
    ).toBeGreaterThan(0);
    // What the listings hold in Redis, counted as the budget counts it, stays within the budget.
    let bytes = 0;
    for (const key of await redis.keys(`${t.config.redis.prefix}:cache:list:*`))
      bytes += key.length + (await redis.strlen(key)) + 96;
    expect(bytes).toBeLessThanOrEqual(2 ** 20);
    // Product pages are keyed by rows that exist: not budgeted, still stored.
    const p = await createProduct(t, admin, { name: 'Still cached', brand });
    await http('GET', t.api(`/products/${p.id}`));
    await eventually(
      async () => (await redis.keys(`${t.config.redis.prefix}:cache:product:*:${p.id}`)).length === 1,
    );
  });
});
