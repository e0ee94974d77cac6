import { Connection, createConnection } from 'mysql2/promise';
import { buildListingQuery, ListingParams } from '../../src/catalog/testing';
import { newId } from '../../src/common/ids';
import { loadConfig } from '../../src/infra/config/app-config';
import { runMigrations } from '../../src/infra/database/migrate';
import { inStockSql } from '../../src/inventory';
import { sql, withDatabase } from '../setup/test-database';

const PRODUCTS = 100_000;
const BATCH = 2_000;
const WORDS =
  'alpine linen merino cotton trail running kettle ceramic speaker wireless charger leather canvas wool denim'.split(
    ' ',
  );

interface PlanRow {
  table: string;
  type: string;
  key: string | null;
  Extra: string | null;
}

/**
 * Every listing shape of GET /products, EXPLAINed at 100k products in a database of its own
 * (so the bulk data does not leak into other suites): no full table scan anywhere, and no
 * filesort/temporary on the keyset paths. The statements are the ones the service runs
 * (buildListingQuery), not hand-written copies.
 */
describe('catalog: every listing shape uses an index at 100k products (EXPLAIN)', () => {
  let conn: Connection;
  let database: string;
  const ids = { root: '', child: '', leaf: '', brand: 'brand-7', productId: '' };

  beforeAll(async () => {
    const base = loadConfig({ ...process.env });
    database = `${process.env.TEST_DATABASE}_explain`;
    await sql(base.db.primary, `CREATE DATABASE \`${database}\``);
    const target = loadConfig({ ...process.env, DB_PRIMARY_URL: withDatabase(base.db.primary.url, database) })
      .db.primary;
    await runMigrations(target, () => undefined);
    conn = await createConnection({
      host: target.host,
      port: target.port,
      user: target.user,
      password: target.password,
      database,
      timezone: 'Z',
    });
    await seed(conn);
  }, 240_000);

  afterAll(async () => {
    await conn?.end();
    const base = loadConfig({ ...process.env });
    await sql(base.db.primary, `DROP DATABASE IF EXISTS \`${database}\``);
  });

  async function seed(c: Connection): Promise<void> {
    // A three-level tree: 4 roots × 5 children × 5 leaves; products sit on leaves.
    const cats: unknown[][] = [];
    const leaves: { id: string; chain: string[] }[] = [];
    for (let r = 0; r < 4; r++) {
      const root = newId();
      cats.push([root, null, `Root ${r}`, `root-${r}`]);
      for (let ch = 0; ch < 5; ch++) {
        const child = newId();
        cats.push([child, root, `Child ${r}.${ch}`, `child-${r}-${ch}`]);
        for (let l = 0; l < 5; l++) {
          const leaf = newId();
          cats.push([leaf, child, `Leaf ${r}.${ch}.${l}`, `leaf-${r}-${ch}-${l}`]);
          leaves.push({ id: leaf, chain: [leaf, child, root] });
        }
      }
    }
    await c.query('INSERT INTO categories (id, parent_id, name, slug) VALUES ?', [cats]);
    ids.leaf = leaves[0].id;
    ids.child = leaves[0].chain[1];
    ids.root = leaves[0].chain[2];
    const now = Date.now();
    for (let start = 0; start < PRODUCTS; start += BATCH) {
      const products: unknown[][] = [];
      const listing: unknown[][] = [];
      const variants: unknown[][] = [];
      const stock: unknown[][] = [];
      for (let i = start; i < start + BATCH; i++) {
        const id = newId();
        const leaf = leaves[i % leaves.length];
        const status = i % 10 === 9 ? 'draft' : 'active';
        const price = 100 + ((i * 7919) % 50_000);
        const created = new Date(now - ((i * 104729) % (365 * 86400)) * 1000);
        const w = (k: number) => WORDS[(i * k) % WORDS.length];
        products.push([
          id,
          leaf.id,
          `${w(3)} ${w(5)} product ${i}`,
          `p-${i}`,
          `A ${w(7)} ${w(11)} thing`,
          `brand-${i % 50}`,
          status,
          price,
          'EUR',
          created,
        ]);
        for (const cat of leaf.chain) listing.push([cat, id, status, created, price]);
        variants.push([`SKU-${i}`, id, price, 'EUR']);
        stock.push([`SKU-${i}`, i % 3 ? 10 : 0, 0, 5]);
      }
      await c.query(
        'INSERT INTO products (id, category_id, name, slug, description, brand, status, min_price, currency, created_at) VALUES ?',
        [products],
      );
      await c.query(
        'INSERT INTO product_categories (category_id, product_id, status, created_at, min_price) VALUES ?',
        [listing],
      );
      await c.query('INSERT INTO product_variants (sku, product_id, price_minor, currency) VALUES ?', [
        variants,
      ]);
      await c.query('INSERT INTO inventory_items (sku, on_hand, reserved, low_stock_threshold) VALUES ?', [
        stock,
      ]);
      if (start === 0) ids.productId = String(products[0][0]);
    }
    await c.query(
      'ANALYZE TABLE categories, products, product_categories, product_variants, inventory_items',
    );
  }

  const explain = async (statement: string, params: unknown[]): Promise<PlanRow[]> => {
    const [rows] = await conn.query(`EXPLAIN ${statement}`, params);
    return rows as PlanRow[];
  };
  const summary = (plan: PlanRow[]) =>
    plan.map((r) => `${r.table}:${r.type}:${r.key}${r.Extra ? ` (${r.Extra})` : ''}`).join(' | ');
  const plans: string[] = [];
  afterAll(() => console.log(`EXPLAIN at ${PRODUCTS} products:\n${plans.join('\n')}`));

  /** A cursor as the API would hand it out, taken from the first page of the same shape. */
  async function withCursor(p: ListingParams): Promise<ListingParams> {
    const q = buildListingQuery(p, inStockSql)!;
    const [rows] = await conn.query(q.sql, q.params);
    const { toPage } = await import('../../src/catalog/testing');
    const page = toPage(rows as never, q);
    expect(page.nextCursor).toBeTruthy();
    return { ...p, cursor: page.nextCursor! };
  }

  const keysetShapes: [string, () => ListingParams][] = [
    ['newest', () => ({})],
    ['price_asc', () => ({ sort: 'price_asc' })],
    ['price_desc', () => ({ sort: 'price_desc' })],
    ['price range, price_asc', () => ({ sort: 'price_asc', minPrice: 1000, maxPrice: 5000 })],
    ['price range, newest', () => ({ minPrice: 1000, maxPrice: 1200 })],
    ['brand, newest', () => ({ brand: ids.brand })],
    ['category root (+descendants), newest', () => ({ categoryId: ids.root })],
    ['category child (+descendants), price_asc', () => ({ categoryId: ids.child, sort: 'price_asc' })],
    ['category leaf, price_desc', () => ({ categoryId: ids.leaf, sort: 'price_desc' })],
    ['in stock, newest', () => ({ inStock: true })],
  ];

  it.each(keysetShapes)('%s: indexed, no filesort, first page and a keyset page', async (name, params) => {
    for (const p of [params(), await withCursor(params())]) {
      const q = buildListingQuery(p, inStockSql)!;
      const plan = await explain(q.sql, q.params);
      plans.push(`${name}${p.cursor ? ' (cursor)' : ''}: ${summary(plan)}`);
      for (const row of plan) {
        // ALL = table scan, index = full index scan: both read every row.
        expect({ shape: name, table: row.table, type: row.type }).not.toMatchObject({
          type: expect.stringMatching(/^(ALL|index)$/),
        });
        expect(row.key).toBeTruthy();
        expect({ shape: name, extra: row.Extra ?? '' }).not.toMatchObject({
          extra: expect.stringMatching(/filesort|temporary/),
        });
      }
    }
  });

  it('search uses the FULLTEXT index (relevance and newest over the matched set)', async () => {
    for (const p of [
      { q: 'merino kettle' },
      { q: 'alpine', sort: 'newest' as const },
      { q: 'wool', categoryId: ids.root },
    ]) {
      const q = buildListingQuery(p, inStockSql)!;
      const plan = await explain(q.sql, q.params);
      plans.push(`search ${JSON.stringify(p)}: ${summary(plan)}`);
      expect(plan.some((r) => r.type === 'fulltext' && r.table === 'p')).toBe(true);
      for (const row of plan) expect(row.type).not.toBe('ALL');
    }
  });

  it('product detail and order pricing read by key', async () => {
    const detail = await explain(
      `SELECT p.id, v.sku FROM products p LEFT JOIN product_variants v ON v.product_id = p.id WHERE p.id = ? ORDER BY v.price_minor, v.sku`,
      [ids.productId],
    );
    const pricing = await explain(
      'SELECT v.sku, p.name FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.sku IN (?)',
      [['SKU-1', 'SKU-2', 'SKU-3']],
    );
    plans.push(`detail: ${summary(detail)}`, `pricing: ${summary(pricing)}`);
    for (const row of [...detail, ...pricing])
      expect(['const', 'eq_ref', 'ref', 'range']).toContain(row.type);
  });
});
