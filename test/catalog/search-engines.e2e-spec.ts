import { CatalogSearch } from '../../src/catalog/testing';
import { MetricsService } from '../../src/infra/observability/metrics.service';
import { adminToken } from '../support/auth';
import { JsonResponse, TestApp, eventually, http, startApp } from '../support/test-app';
import { sql } from '../setup/test-database';
import { createCategory, createProduct, tag } from './catalog-support';

const searches = async (t: TestApp, engine: 'memory' | 'fulltext'): Promise<number> => {
  const text = await t.app.get(MetricsService).registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`shop_catalog_searches_total{engine="${engine}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
};

/** Every id of a listing, page by page (`limit` per page), as a client walks it. */
async function walk(t: TestApp, query: string, limit = 2): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; ; pages++) {
    const res: JsonResponse = await http(
      'GET',
      t.api(`/products?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`),
    );
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(...res.body.items.map((i: { id: string }) => i.id));
    cursor = res.body.nextCursor;
    if (!cursor) return ids;
    if (pages > 50) throw new Error('too many pages');
  }
}

/**
 * Decision 0032: with CATALOG_SEARCH=memory (the default) text searches are answered by each
 * instance's in-process index. It must answer what MySQL FULLTEXT answers (the same products,
 * filters, sorts and cursors), follow every write on every instance, and leave to FULLTEXT what
 * it cannot answer.
 */
describe('catalog search: the in-process index answers as FULLTEXT does and follows every write', () => {
  let a: TestApp;
  let b: TestApp;
  let fulltext: TestApp;
  let admin: string;
  const w = `zq${tag()}`; // a word no other suite's product has
  const ids: Record<string, string> = {};
  let root: string;
  let leaf: string;

  beforeAll(async () => {
    [a, b, fulltext] = await Promise.all([startApp(), startApp(), startApp({ CATALOG_SEARCH: 'fulltext' })]);
    admin = await adminToken(a);
    root = (await createCategory(a, admin, `root-${w}`)).id;
    leaf = (await createCategory(a, admin, `leaf-${w}`, root)).id;
    const products: [string, Parameters<typeof createProduct>[2]][] = [
      ['shoe', { name: `${w} Trail Runner`, brand: 'Alpina', categoryId: leaf, price: 8900 }],
      [
        'jacket',
        {
          name: `${w} Trail Jacket`,
          description: 'Waterproof shell',
          brand: 'Alpina',
          categoryId: root,
          price: 15900,
        },
      ],
      [
        'sock',
        { name: `${w} Merino Socks`, description: 'For trail and town', brand: 'Woolly', price: 1900 },
      ],
      ['mug', { name: `${w} Enamel Mug`, description: 'Camp coffee', brand: 'Campfire', price: 1900 }],
      [
        'cafe',
        {
          name: `${w} Café Press`,
          description: 'Coffee for the trail',
          brand: 'Campfire',
          categoryId: leaf,
          price: 3900,
        },
      ],
      ['lamp', { name: `${w} Camping Lantern`, description: 'Bright', price: 2900, stock: 0 }],
    ];
    for (const [key, body] of products) ids[key] = (await createProduct(a, admin, body)).id;
    await eventually(() => Promise.resolve(a.app.get(CatalogSearch).ready && b.app.get(CatalogSearch).ready));
    // FULLTEXT reads a replica: wait until it holds every product.
    await eventually(async () => (await walk(fulltext, `q=${w}`, 100)).length === products.length);
  }, 60_000);
  afterAll(() => Promise.all([a, b, fulltext].map((t) => t?.close())));

  it('answers each query with the products, order and cursors of FULLTEXT', async () => {
    const queries = [
      `q=${w}&sort=newest`,
      `q=${w}&sort=price_asc`,
      `q=${w}&sort=price_desc`,
      `q=${w}+trail&sort=newest`,
      `q=${w}+TRA&sort=price_asc`,
      `q=${w}+coffee&sort=newest`,
      `q=${w}+cafe&sort=newest`,
      `q=${encodeURIComponent(`${w} Café`)}&sort=newest`,
      `q=${w}&brand=alpina&sort=newest`,
      `q=${w}&categoryId=${root}&sort=price_asc`,
      `q=${w}&categoryId=${leaf}&sort=newest`,
      `q=${w}&minPrice=1900&maxPrice=8900&sort=price_desc`,
      `q=${w}+nosuchword&sort=newest`,
    ];
    const before = await searches(b, 'memory');
    for (const query of queries) {
      const expected = await walk(fulltext, query);
      expect({ query, ids: await walk(b, query) }).toEqual({ query, ids: expected });
    }
    // Relevance is each engine's own: the same products, in the index's order.
    for (const query of [`q=${w}`, `q=${w}+trail`, `q=${w}+coffee&categoryId=${leaf}`]) {
      const expected = await walk(fulltext, query);
      expect({ query, ids: (await walk(b, query)).sort() }).toEqual({ query, ids: expected.sort() });
    }
    expect(await searches(b, 'memory')).toBeGreaterThanOrEqual(before + 30); // the index answered, not FULLTEXT
  });

  it('answers the page JSON FULLTEXT answers', async () => {
    const query = `/products?q=${w}+trail&sort=price_asc&limit=2`;
    const [mine, theirs] = await Promise.all([http('GET', b.api(query)), http('GET', fulltext.api(query))]);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual(theirs.body);
    expect(mine.body.items).toHaveLength(2);
  });

  it('leaves a search with inStock to FULLTEXT', async () => {
    const before = await searches(b, 'fulltext');
    const res = await http('GET', b.api(`/products?q=${w}+camping&inStock=true`));
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]); // the lantern has no stock
    expect(await searches(b, 'fulltext')).toBe(before + 1);
  });

  it("follows another instance's writes through the broadcast: new, renamed, re-priced, archived", async () => {
    const found = async (t: TestApp, q: string) => walk(t, `q=${encodeURIComponent(q)}&sort=newest`, 100);
    const kettle = await createProduct(a, admin, { name: `${w} Kettle`, price: 4200 });
    await eventually(async () => (await found(b, `${w} kettle`)).includes(kettle.id), 3000, 20);

    const renamed = await http('PATCH', a.api(`/products/${kettle.id}`), {
      token: admin,
      body: { name: `${w} Teapot` },
    });
    expect(renamed.status).toBe(200);
    expect(await found(a, `${w} teapot`)).toEqual([kettle.id]); // the writer's own index: at once
    await eventually(async () => (await found(b, `${w} teapot`)).includes(kettle.id), 3000, 20);
    expect(await found(b, `${w} kettle`)).toEqual([]);

    const repriced = await http('PATCH', a.api(`/products/${kettle.id}`), {
      token: admin,
      body: { variants: [{ sku: kettle.sku, price: 100, currency: 'EUR' }] },
    });
    expect(repriced.status).toBe(200);
    await eventually(
      async () => {
        const page = await http('GET', b.api(`/products?q=${w}+teapot&maxPrice=100`));
        return page.body.items?.[0]?.price === 100;
      },
      3000,
      20,
    );

    expect((await http('DELETE', a.api(`/products/${kettle.id}`), { token: admin })).status).toBe(204);
    expect(await found(a, `${w} teapot`)).toEqual([]);
    await eventually(async () => (await found(b, `${w} teapot`)).length === 0, 3000, 20);
  });

  it('catches a change no broadcast announced (written on the primary behind the app) within its next looks', async () => {
    const db = a.config.db.primary;
    const { id } = await createProduct(a, admin, { name: `${w} Hammock` });
    await eventually(async () => (await walk(b, `q=${w}+hammock`)).includes(id), 3000, 20);
    await sql(db, `UPDATE \`${db.database}\`.products SET name = ? WHERE id = ?`, [`${w} Swing Chair`, id]);
    await eventually(async () => (await walk(b, `q=${w}+swing`)).includes(id), 10_000, 100);
    expect(await walk(b, `q=${w}+hammock`)).toEqual([]);
    await sql(db, `UPDATE \`${db.database}\`.products SET status = 'archived' WHERE id = ?`, [id]);
    await eventually(async () => (await walk(b, `q=${w}+swing`)).length === 0, 10_000, 100);
  });

  it('starts with the catalog as it is: a new instance loads every active product', async () => {
    const c = await startApp();
    try {
      await eventually(() => Promise.resolve(c.app.get(CatalogSearch).ready));
      expect((await walk(c, `q=${w}&sort=newest`)).sort()).toEqual(
        (await walk(a, `q=${w}&sort=newest`)).sort(),
      );
      expect(await walk(c, `q=${w}&sort=newest`)).toHaveLength(6);
    } finally {
      await c.close();
    }
  });
});
