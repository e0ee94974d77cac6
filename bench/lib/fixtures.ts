import { jsonRequest as json } from '../../scripts/lib/net';
import type { HttpLoad } from './load';

/**
 * Setup shared by the measuring harnesses (bench/run.ts, bench/drain.ts, scripts/edge-cpu.ts):
 * the MySQL account of a `mysql://` URL, a database created afresh, a flash sale opened now.
 */

/** What mysql2 needs to log in as a `mysql://user:pass@host:port/db` URL's account (no database). */
export interface MysqlAccount {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The account of a `mysql://user:pass@host:port/db` URL. */
export function mysqlAccount(url: string): MysqlAccount {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

/** DROP + CREATE of `name` with the app's character set (its migrations then fill it). */
export async function recreateDatabase(
  pool: { query: (sql: string) => Promise<unknown> },
  name: string,
): Promise<void> {
  await pool.query(`DROP DATABASE IF EXISTS ${name}`);
  await pool.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
}

/** A product with one variant `sku` (19.99 EUR, stock enough for any run): its id, or undefined. */
export async function createProduct(
  api: (path: string) => string,
  adminToken: string,
  sku: string,
  name: string,
): Promise<string | undefined> {
  const res = await json(
    'POST',
    api('/products'),
    {
      name,
      description: `${name}, for measurements`,
      variants: [{ sku, price: 1999, currency: 'EUR', stockOnHand: 1000000000 }],
    },
    adminToken,
  );
  return res.body?.id;
}

/** A flash sale of `quantity` units of `sku`, open from a second ago for an hour: its id (throws naming the answer otherwise). */
export async function openFlashSale(
  api: (path: string) => string,
  adminToken: string,
  sku: string,
  quantity: number,
): Promise<string> {
  const now = Date.now();
  const res = await json(
    'POST',
    api('/flash-sales'),
    {
      sku,
      price: 999,
      quantity,
      perUserLimit: 1,
      startsAt: new Date(now - 1000).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
    },
    adminToken,
  );
  if (typeof res.body?.id !== 'string')
    throw new Error(`could not create sale: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/**
 * The cart scenario's requests: for each bearer `authorization`, one unit of `sku` added to that
 * customer's cart (POST /cart/items) and the cart read back (GET /cart).
 */
export function cartRequests(authorizations: string[], sku: string): NonNullable<HttpLoad['requests']> {
  return authorizations.flatMap((authorization): NonNullable<HttpLoad['requests']> => [
    {
      method: 'POST' as const,
      path: '/api/v1/cart/items',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ sku, quantity: 1 }),
    },
    { method: 'GET' as const, path: '/api/v1/cart', headers: { authorization } },
  ]);
}
