import { BulkUser, adminToken, bulkUsers } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { sql } from '../setup/test-database';
import { placeOrder } from '../orders/builders';
import { createProduct, tag } from './catalog-support';

/**
 * Decision 0015: a cache fill never outlives the write it missed. The replica's SQL thread is
 * stopped right before a price change and the replica monitor is told not to look again
 * (DB_REPLICA_CHECK_INTERVAL_MS of ten minutes): the replica stays in rotation, as a replica whose
 * IO thread stalls while it reports lag 0 would. DB_REPLICA_MAX_LAG_SECONDS is 1, so the bound
 * the decision documents (DB_REPLICA_MAX_LAG_SECONDS + 2 s) is 3 s.
 */
const MAX_LAG_S = 1;
const BOUND_MS = MAX_LAG_S * 1000 + 2000;
const OLD = 1000;
const NEW = 2500;

interface Sample {
  at: number;
  instance: 'a' | 'b';
  what: 'page' | 'listing' | 'listing-new-product' | 'order';
  value: number | boolean | string;
}

describe('catalog cache: a fill from a replica that missed a write is never cached past it', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  let buyers: BulkUser[];
  let nextBuyer = 0;
  const replica = () => a.config.db.replicas[0];

  beforeAll(async () => {
    const env = { DB_REPLICA_CHECK_INTERVAL_MS: '600000', DB_REPLICA_MAX_LAG_SECONDS: String(MAX_LAG_S) };
    a = await startApp(env);
    b = await startApp(env);
    admin = await adminToken(a);
    buyers = await bulkUsers(a, 60, 'fence');
  });
  afterAll(async () => {
    await sql(replica(), 'START REPLICA SQL_THREAD').catch(() => undefined);
    await Promise.all([a.close(), b.close()]);
  });

  const onReplica = async (q: string, params: unknown[]) =>
    (await sql(replica(), q.replace(/\bFROM (\w+)/g, `FROM ${replica().database}.$1`), params)) as any[];

  /** What each instance shows now: the product page's price, the listing's, and what an order is charged. */
  async function sampleAll(
    t0: number,
    ids: { product: string; sku: string; brand: string; created?: string },
    withOrders: boolean,
  ): Promise<Sample[]> {
    const out: Sample[] = [];
    for (const [name, t] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const [page, listing, order] = await Promise.all([
        http('GET', t.api(`/products/${ids.product}`)),
        http('GET', t.api(`/products?brand=${ids.brand}&limit=10`)),
        withOrders
          ? placeOrder(t, buyers[nextBuyer++ % buyers.length].token, [{ sku: ids.sku, quantity: 1 }])
          : undefined,
      ]);
      const at = Date.now() - t0;
      out.push({ at, instance: name, what: 'page', value: page.body.variants?.[0]?.price ?? page.status });
      const item = (listing.body.items as { id: string; price: number }[]).find((i) => i.id === ids.product);
      out.push({ at, instance: name, what: 'listing', value: item?.price ?? 'missing' });
      if (ids.created)
        out.push({
          at,
          instance: name,
          what: 'listing-new-product',
          value: (listing.body.items as { id: string }[]).some((i) => i.id === ids.created),
        });
      if (order)
        out.push({
          at,
          instance: name,
          what: 'order',
          value: order.status === 201 ? order.body.total.amount : `${order.status} ${order.body?.code}`,
        });
    }
    return out;
  }

  it('shows a price changed while replication is paused within the bound on both instances, and nothing stale after it resumes', async () => {
    const brand = `Fence${tag()}`;
    const p = await createProduct(a, admin, { name: 'Fenced price', brand, price: OLD, stock: 500 });
    await eventually(
      async () => (await onReplica('SELECT id FROM products WHERE id = ?', [p.id])).length === 1,
    );
    // Both instances hold the old price in L1 and L2 (page, listing, order price).
    for (const t of [a, b]) {
      expect((await http('GET', t.api(`/products/${p.id}`))).body.variants[0].price).toBe(OLD);
      expect((await http('GET', t.api(`/products?brand=${brand}`))).body.items[0].price).toBe(OLD);
      const o = await placeOrder(t, buyers[nextBuyer++].token, [{ sku: p.sku, quantity: 1 }]);
      expect(o.body.total?.amount).toBe(OLD);
    }

    await sql(replica(), 'STOP REPLICA SQL_THREAD');
    let samples: Sample[] = [];
    let created = '';
    let t0 = 0;
    try {
      const patch = await http('PATCH', a.api(`/products/${p.id}`), {
        token: admin,
        body: { variants: [{ sku: p.sku, price: NEW, currency: 'EUR' }] },
      });
      expect(patch.status).toBe(200);
      t0 = Date.now(); // acknowledged
      // A product created while the replica is paused must show up in the listing too.
      created = (await createProduct(a, admin, { name: 'Created while paused', brand, price: 3000 })).id;
      // The replica really is behind: it still has the old price.
      expect(
        (await onReplica('SELECT price_minor FROM product_variants WHERE sku = ?', [p.sku]))[0].price_minor,
      ).toBe(OLD);
      // Sample for well past the L1 TTLs and the fresh window (what used to expire into a stale fill).
      while (Date.now() - t0 < BOUND_MS + 6000) {
        samples.push(...(await sampleAll(t0, { product: p.id, sku: p.sku, brand, created }, true)));
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      await sql(replica(), 'START REPLICA SQL_THREAD');
    }
    const firstNew = (instance: 'a' | 'b', what: Sample['what']) =>
      samples.find((s) => s.instance === instance && s.what === what && (s.value === NEW || s.value === true))
        ?.at;
    const late = samples.filter((s) => s.at > BOUND_MS && s.value !== NEW && s.value !== true);
    console.log(
      `paused replica: ${samples.length} samples over ${samples[samples.length - 1].at} ms; first new value (ms after the PATCH answered):`,
      JSON.stringify(
        Object.fromEntries(
          (['a', 'b'] as const).flatMap((i) =>
            (['page', 'listing', 'listing-new-product', 'order'] as const).map((w) => [
              `${i}.${w}`,
              firstNew(i, w),
            ]),
          ),
        ),
      ),
      `; old values after the bound: ${late.length}`,
    );
    expect(late).toEqual([]);
    for (const i of ['a', 'b'] as const)
      for (const w of ['page', 'listing', 'listing-new-product', 'order'] as const)
        expect(firstNew(i, w)).toBeLessThanOrEqual(BOUND_MS);

    // Replication resumes: once the replica has the write, nothing old comes back from any tier.
    await eventually(
      async () =>
        (await onReplica('SELECT price_minor FROM product_variants WHERE sku = ?', [p.sku]))[0]
          .price_minor === NEW,
      20000,
    );
    const t1 = Date.now();
    samples = [];
    while (Date.now() - t1 < 4000) {
      samples.push(...(await sampleAll(t1, { product: p.id, sku: p.sku, brand, created }, false)));
      await new Promise((r) => setTimeout(r, 200));
    }
    samples.push(...(await sampleAll(t1, { product: p.id, sku: p.sku, brand, created }, true)));
    const stale = samples.filter((s) => s.value !== NEW && s.value !== true);
    console.log(`after resume: ${samples.length} samples, stale: ${JSON.stringify(stale)}`);
    expect(stale).toEqual([]);
  });
});
