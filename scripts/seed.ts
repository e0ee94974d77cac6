/**
 * `npm run seed -- --users N --products N --orders N [--categories N] [--truncate] [--seed S]`
 * Realistic bulk data on DB_PRIMARY_URL, resolved like `npm run up` resolves it (unset or naming
 * the local infrastructure: this checkout's own local primary on INFRA_MYSQL_PRIMARY_PORT, which
 * must be running; a server another checkout started there is refused). Migrations must have
 * run. A category tree, products
 * with variants and stock, customers (one argon2id hash computed once and reused), and orders
 * with items across statuses and the last year; one customer (the first seeded) places every
 * HEAVY_BUYER_EVERY-th order — 2,000 of a million — as the order-history goal needs a customer
 * with 1,000+ orders in a 1 M-order table. Batched multi-row INSERTs over a few
 * connections, a progress bar per table with rows/s, deterministic for a given --seed.
 */
import { faker } from '@faker-js/faker';
import { MultiBar, Presets } from 'cli-progress';
import { Pool, createPool } from 'mysql2/promise';
import { newId } from '../src/common/ids';
import { appConfig } from '../src/infra/config/app-config';
import { hashPassword } from '../src/users/testing';
import { resolveLocalInfra } from './infra/infra-plan';
import { assertOwnInfra } from './infra/local-infra';

/** One order in this many belongs to the first seeded customer (see the header). */
const HEAVY_BUYER_EVERY = 500;

interface Args {
  users: number;
  products: number;
  orders: number;
  categories: number;
  truncate: boolean;
  seed: number;
  batch: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    users: 1000,
    products: 1000,
    orders: 10000,
    categories: 30,
    truncate: false,
    seed: 42,
    batch: 2000,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (k === 'truncate') a.truncate = true;
    else if (k in a) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`--${k} needs a non-negative integer`);
      (a as unknown as Record<string, number>)[k] = v;
    } else
      throw new Error(
        `unknown option --${k} (use --users --products --orders --categories --truncate --seed --batch)`,
      );
  }
  return a;
}

const STATUSES: [string, number][] = [
  ['PAID', 0.35],
  ['FULFILLED', 0.35],
  ['CANCELLED', 0.1],
  ['EXPIRED', 0.1],
  ['REFUNDED', 0.05],
  ['PENDING_PAYMENT', 0.05],
];
function pickStatus(): string {
  let r = faker.number.float({ min: 0, max: 1 });
  for (const [s, p] of STATUSES) if ((r -= p) <= 0) return s;
  return 'PAID';
}

const dt = (d: Date) => d.toISOString().slice(0, 23).replace('T', ' ');

async function inBatches(
  pool: Pool,
  bar: { increment(n: number): void },
  total: number,
  batch: number,
  make: (n: number, offset: number) => Promise<void>,
): Promise<void> {
  // Two statements in flight: the server works on one batch while we build the next.
  const inflight = new Set<Promise<void>>();
  for (let off = 0; off < total; off += batch) {
    const n = Math.min(batch, total - off);
    const p = make(n, off).then(() => {
      bar.increment(n);
      inflight.delete(p);
    });
    inflight.add(p);
    if (inflight.size >= 2) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  void pool;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  faker.seed(args.seed);
  const infra = resolveLocalInfra({ dotenv: 'all' });
  await assertOwnInfra(infra.components.filter((c) => c === 'primary'));
  Object.assign(process.env, infra.env);
  // Bulk demo data for the local database unless NODE_ENV (or .env) says otherwise: only the
  // database URL is used, but the app's config would refuse its development secrets in production.
  process.env.NODE_ENV ??= 'development';
  const cfg = appConfig();
  console.log(`seeding ${cfg.db.primary.label}/${cfg.db.primary.database}`);
  const pool = createPool({
    host: cfg.db.primary.host,
    port: cfg.db.primary.port,
    user: cfg.db.primary.user,
    password: cfg.db.primary.password,
    database: cfg.db.primary.database,
    connectionLimit: 3,
    timezone: 'Z',
  });
  const t0 = Date.now();
  if (args.truncate) {
    const c = await pool.getConnection();
    await c.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const t of [
      'order_items',
      'orders',
      'inventory_movements',
      'inventory_items',
      'product_categories',
      'product_variants',
      'products',
      'categories',
    ])
      await c.query(`DELETE FROM ${t}`);
    await c.query(`DELETE FROM users WHERE email LIKE '%@seed.example'`);
    await c.query('SET FOREIGN_KEY_CHECKS = 1');
    c.release();
    console.log('truncated catalog, inventory, orders and seeded users');
  }

  // One cli-progress bar per table, with rows/s.
  const bars = new MultiBar(
    {
      format: '{table} |{bar}| {value}/{total} rows  {rate} rows/s',
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  const track = (table: string, total: number) => {
    const bar = bars.create(Math.max(1, total), 0, { table: table.padEnd(10), rate: 0 });
    bar.setTotal(Math.max(1, total));
    const start = Date.now();
    let done = 0;
    return {
      increment(n: number) {
        done += n;
        bar.update(done, {
          table: table.padEnd(10),
          rate: Math.round(done / Math.max(0.001, (Date.now() - start) / 1000)),
        });
      },
    };
  };
  const run = `${args.seed}-${Date.now().toString(36)}`;

  // Categories: a tree, 5 roots and children under earlier ones.
  const cats: { id: string; parent: string | null }[] = [];
  for (let i = 0; i < args.categories; i++) {
    const parent = i < 5 ? null : cats[faker.number.int({ min: 0, max: i - 1 })].id;
    cats.push({ id: newId(), parent });
  }
  const catBar = track('categories', cats.length);
  for (const c of cats) {
    const name = `${faker.commerce.department()} ${faker.word.noun()}`;
    await pool.query(
      'INSERT INTO categories (id, parent_id, name, slug, created_at) VALUES (?, ?, ?, ?, NOW(3))',
      [c.id, c.parent, name.slice(0, 120), `${faker.helpers.slugify(name).toLowerCase()}-${c.id.slice(-12)}`],
    );
    catBar.increment(1);
  }
  const ancestors = (id: string): string[] => {
    const out: string[] = [];
    for (
      let c = cats.find((x) => x.id === id);
      c;
      c = c.parent ? cats.find((x) => x.id === c!.parent) : undefined
    )
      out.push(c.id);
    return out;
  };

  // Products with 1-3 variants each, stock per variant.
  const variants: { sku: string; productId: string; name: string; price: number }[] = [];
  const prodBar = track('products', args.products);
  await inBatches(pool, prodBar, args.products, Math.min(args.batch, 1000), async (n, off) => {
    const products: unknown[][] = [];
    const vrows: unknown[][] = [];
    const inv: unknown[][] = [];
    const pcs: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const id = newId();
      const name = faker.commerce.productName();
      const created = faker.date.past({ years: 2 });
      const cat = cats.length ? cats[faker.number.int({ min: 0, max: cats.length - 1 })].id : null;
      const count = faker.number.int({ min: 1, max: 3 });
      let min = Number.MAX_SAFE_INTEGER;
      for (let v = 0; v < count; v++) {
        const sku = `SEED-${run}-${off + i}-${v}`;
        const price = faker.number.int({ min: 199, max: 99999 });
        min = Math.min(min, price);
        vrows.push([sku, id, price, 'EUR', dt(created)]);
        inv.push([sku, faker.number.int({ min: 0, max: 500 }), 0, 5]);
        variants.push({ sku, productId: id, name, price });
      }
      products.push([
        id,
        cat,
        name,
        `${faker.helpers.slugify(name).toLowerCase()}-${id.slice(-12)}`,
        faker.commerce.productDescription(),
        faker.company.name().slice(0, 120),
        'active',
        min,
        'EUR',
        dt(created),
        dt(created),
      ]);
      if (cat) for (const a of ancestors(cat)) pcs.push([a, id, 'active', dt(created), min]);
    }
    await pool.query(
      'INSERT INTO products (id, category_id, name, slug, description, brand, status, min_price, currency, created_at, updated_at) VALUES ?',
      [products],
    );
    await pool.query(
      'INSERT INTO product_variants (sku, product_id, price_minor, currency, created_at) VALUES ?',
      [vrows],
    );
    await pool.query('INSERT INTO inventory_items (sku, on_hand, reserved, low_stock_threshold) VALUES ?', [
      inv,
    ]);
    if (pcs.length)
      await pool.query(
        'INSERT INTO product_categories (category_id, product_id, status, created_at, min_price) VALUES ?',
        [pcs],
      );
  });

  // Customers: one argon2id hash (the costly part) computed once, reused for every seeded user,
  // with the app's own parameters, so a login of a seeded user costs what a real one does.
  const hash = await hashPassword('seed-password-123');
  const userIds: string[] = [];
  const userBar = track('users', args.users);
  await inBatches(pool, userBar, args.users, args.batch, async (n, off) => {
    const rows: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const id = newId();
      userIds.push(id);
      const createdAt = faker.date.past({ years: 2 });
      const created = dt(createdAt);
      // Most customers followed their verification link within a day; about one in ten never did.
      const verified =
        Math.random() < 0.9
          ? dt(new Date(Math.min(Date.now(), createdAt.getTime() + Math.floor(Math.random() * 86_400_000))))
          : null;
      rows.push([
        id,
        `user${off + i}.${run}@seed.example`,
        hash,
        faker.person.fullName().slice(0, 100),
        'customer',
        verified,
        created,
        created,
      ]);
    }
    await pool.query(
      'INSERT INTO users (id, email, password_hash, name, role, email_verified_at, created_at, updated_at) VALUES ?',
      [rows],
    );
  });

  // Orders with 1-3 items, across statuses and the last year.
  if (args.orders && (!userIds.length || !variants.length))
    throw new Error('orders need --users and --products > 0');
  const orderBar = track('orders', args.orders);
  let seq = 0;
  await inBatches(pool, orderBar, args.orders, args.batch, async (n) => {
    const orders: unknown[][] = [];
    const items: unknown[][] = [];
    for (let i = 0; i < n; i++) {
      const id = newId();
      const created = faker.date.past({ years: 1 });
      const lines = faker.number.int({ min: 1, max: 3 });
      let total = 0;
      for (let l = 0; l < lines; l++) {
        const v = variants[faker.number.int({ min: 0, max: variants.length - 1 })];
        const q = faker.number.int({ min: 1, max: 3 });
        total += v.price * q;
        items.push([id, v.sku, v.productId, v.name, v.price, q]);
      }
      const status = pickStatus();
      const expires = status === 'PENDING_PAYMENT' ? dt(new Date(Date.now() + 15 * 60000)) : null;
      orders.push([
        id,
        seq++ % HEAVY_BUYER_EVERY === 0
          ? userIds[0]
          : userIds[faker.number.int({ min: 0, max: userIds.length - 1 })],
        status,
        total,
        'EUR',
        'web',
        expires,
        dt(created),
        dt(created),
      ]);
    }
    await pool.query(
      'INSERT INTO orders (id, user_id, status, total_minor, currency, source, expires_at, created_at, updated_at) VALUES ?',
      [orders],
    );
    await pool.query(
      'INSERT INTO order_items (order_id, sku, product_id, product_name, unit_price_minor, quantity) VALUES ?',
      [items],
    );
  });
  bars.stop();
  const secs = (Date.now() - t0) / 1000;
  const rows = args.categories + args.products + variants.length * 2 + args.users + args.orders;
  console.log(
    `seeded ${args.categories} categories, ${args.products} products (${variants.length} variants), ${args.users} users, ${args.orders} orders in ${secs.toFixed(1)} s (~${Math.round(rows / secs)} rows/s excluding items)`,
  );
  console.log(`seeded users log in with password "seed-password-123", e.g. user0.${run}@seed.example`);
  await pool.end();
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
