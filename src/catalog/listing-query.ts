import { ValidationFailedError } from '../common/errors/domain-error';
import { isCanonicalUuid } from '../common/uuid';

export const LISTING_SORTS = ['relevance', 'price_asc', 'price_desc', 'newest'] as const;
export type ListingSort = (typeof LISTING_SORTS)[number];
export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;
/** The largest price (minor units) a product or a price bound may state. */
export const MAX_PRICE = 2_000_000_000;
/** Relevance pages are offsets (a FULLTEXT score is no index order); deep paging there is bounded. */
export const MAX_RELEVANCE_OFFSET = 1000;

export interface ListingParams {
  q?: string;
  /** The category itself and its descendants (product_categories holds every ancestor). */
  categoryId?: string;
  brand?: string;
  minPrice?: number;
  maxPrice?: number;
  inStock?: boolean;
  sort?: ListingSort;
  cursor?: string;
  limit?: number;
}

const SORTS: ReadonlySet<string> = new Set(LISTING_SORTS);
const TEXT_MAX = { q: 200, brand: 120 } as const;

/** A percent-decoded query value as Fastify's parser has it ('+' is a space), or undefined if malformed. */
function decodeValue(raw: string): string | undefined {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The listing parameters of a **plain** raw query string — one the pipeline's ListProductsQuery
 * would accept exactly so — or undefined for anything else, which the pipeline then judges
 * (the HTTP edge's rule: when in doubt, decline). Plain means: `key=value` pairs separated by
 * `&`, each key known and given once, values within the DTO's rules; no cursor and no inStock
 * (those pages are not cached). The result is what ValidationPipe would hand the controller.
 */
export function plainListingParams(raw: string): ListingParams | undefined {
  const p: ListingParams = {};
  if (raw === '') return p;
  const seen = new Set<string>();
  for (const pair of raw.split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const key = pair.slice(0, eq);
    const value = decodeValue(pair.slice(eq + 1));
    if (!value || seen.has(key)) return undefined;
    seen.add(key);
    switch (key) {
      case 'q':
      case 'brand':
        if (value.length > TEXT_MAX[key]) return undefined;
        p[key] = value;
        break;
      case 'categoryId':
        if (!isCanonicalUuid(value)) return undefined;
        p.categoryId = value;
        break;
      case 'minPrice':
      case 'maxPrice': {
        if (!/^\d{1,10}$/.test(value) || Number(value) > MAX_PRICE) return undefined;
        p[key] = Number(value);
        break;
      }
      case 'limit':
        if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > MAX_LIMIT) return undefined;
        p.limit = Number(value);
        break;
      case 'sort':
        if (!SORTS.has(value)) return undefined;
        p.sort = value as ListingSort;
        break;
      default:
        return undefined;
    }
  }
  if (p.minPrice !== undefined && p.maxPrice !== undefined && p.minPrice > p.maxPrice) return undefined;
  return p;
}

export type Cursor =
  { s: 'relevance'; o: number } | { s: Exclude<ListingSort, 'relevance'>; v: number | string; id: string };

export const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

export function decodeCursor(raw: string, sort: ListingSort): Cursor {
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw new ValidationFailedError('cursor: not a cursor returned by this endpoint');
  }
  const ok =
    c &&
    c.s === sort &&
    (c.s === 'relevance'
      ? Number.isSafeInteger(c.o) && c.o > 0 && c.o <= MAX_RELEVANCE_OFFSET
      : typeof c.id === 'string' &&
        c.id.length <= 36 &&
        (c.s === 'newest'
          ? typeof c.v === 'string' && !Number.isNaN(Date.parse(c.v))
          : Number.isSafeInteger(c.v)));
  if (!ok) throw new ValidationFailedError('cursor: not a cursor for this query (sort changed?)');
  return c;
}

/** What separates words: anything but letters, marks, digits and `_` (InnoDB's word characters). */
export const WORD_SPLIT = /[^\p{L}\p{M}\p{N}_]+/u;

/**
 * The words of a search text: runs of word characters ({@link WORD_SPLIT}; NFKC, lower case) of at
 * least the FULLTEXT minimum token size (3 on InnoDB and MariaDB; shorter words cannot match), at
 * most 8. Marks stay inside their word (`İ` lower-cases to `i` + a combining dot; Indic and Thai
 * vowel signs). Both search engines take these words, each a required prefix (decision 0032).
 */
export function searchWords(q: string): string[] {
  return q
    .normalize('NFKC')
    .toLowerCase()
    .split(WORD_SPLIT)
    .filter((w) => w.length >= 3)
    .slice(0, 8);
}

/**
 * Turns free text into a BOOLEAN MODE query that cannot carry operators: each of its
 * {@link searchWords} becomes a required prefix term (`+word*`).
 */
export function toBooleanQuery(q: string): string | undefined {
  const words = searchWords(q);
  return words.length ? words.map((w) => `+${w}*`).join(' ') : undefined;
}

export interface BuiltQuery {
  sql: string;
  params: unknown[];
  sort: ListingSort;
  limit: number;
  /** Offset of the page (relevance only). */
  offset: number;
  /** The search words (`q`), when there are any. */
  words?: string[];
  /** The decoded cursor, when one was given. */
  cursor?: Cursor;
}

/**
 * The one SQL statement of a listing page. Shapes and the index each uses (asserted by EXPLAIN
 * in test/catalog/catalog-explain.e2e-spec.ts at 100k products):
 * - newest / price_asc / price_desc, optionally with a price range: idx_products_newest / idx_products_price;
 * - brand + newest: idx_products_brand;
 * - category (with descendants) + newest / price: product_categories idx_pc_newest / idx_pc_price;
 * - q: the FULLTEXT index (relevance order; other sorts order the matched set).
 * `inStockSql` is the inventory module's condition for a variant SKU column.
 */
export function buildListingQuery(
  p: ListingParams,
  inStockSql: (skuColumn: string) => string,
): BuiltQuery | undefined {
  const limit = p.limit ?? DEFAULT_LIMIT;
  const words = p.q !== undefined ? searchWords(p.q) : undefined;
  const text = words?.length ? words.map((w) => `+${w}*`).join(' ') : undefined;
  if (p.q !== undefined && !text) return undefined; // nothing searchable: an empty page
  const sort: ListingSort = p.sort ?? (text ? 'relevance' : 'newest');
  if (sort === 'relevance' && !text) throw new ValidationFailedError('sort: relevance needs q');
  const cursor = p.cursor ? decodeCursor(p.cursor, sort) : undefined;

  const where: string[] = [];
  const params: unknown[] = [];
  // With a category the driving table is product_categories (its indexes carry the listing order).
  const t = p.categoryId ? 'pc' : 'p';
  const idCol = p.categoryId ? 'pc.product_id' : 'p.id';
  let from = 'products p';
  if (p.categoryId) {
    from = 'product_categories pc JOIN products p ON p.id = pc.product_id';
    where.push('pc.category_id = ?');
    params.push(p.categoryId);
  }
  where.push(`${t}.status = 'active'`);
  if (p.brand !== undefined) {
    where.push('p.brand = ?');
    params.push(p.brand);
  }
  if (p.minPrice !== undefined) {
    where.push(`${t}.min_price >= ?`);
    params.push(p.minPrice);
  }
  if (p.maxPrice !== undefined) {
    where.push(`${t}.min_price <= ?`);
    params.push(p.maxPrice);
  }
  if (p.inStock)
    // A scalar subquery, not EXISTS: it stays a per-row probe (variants by product, inventory by
    // PK) along the index order, whereas EXISTS became a semi-join that MariaDB materialised by
    // scanning every variant.
    where.push(
      `(SELECT 1 FROM product_variants v WHERE v.product_id = p.id AND ${inStockSql('v.sku')} LIMIT 1) IS NOT NULL`,
    );

  let select = `SELECT p.id, p.name, p.slug, p.brand, p.category_id, p.min_price, p.currency, p.created_at`;
  let order: string;
  let offset = 0;
  if (text) {
    where.push('MATCH (p.name, p.description) AGAINST (? IN BOOLEAN MODE)');
    params.push(text);
  }
  if (sort === 'relevance') {
    select += ', MATCH (p.name, p.description) AGAINST (? IN BOOLEAN MODE) AS score';
    params.unshift(text); // the SELECT placeholder comes first
    order = 'score DESC, p.id DESC';
    offset = cursor?.s === 'relevance' ? cursor.o : 0;
  } else {
    const col = sort === 'newest' ? `${t}.created_at` : `${t}.min_price`;
    const dir = sort === 'price_asc' ? 'ASC' : 'DESC';
    const cmp = dir === 'ASC' ? '>' : '<';
    if (cursor && cursor.s !== 'relevance') {
      const v = sort === 'newest' ? new Date(cursor.v as string) : cursor.v;
      // Written as `col <= v AND (col < v OR id < last)` (not a row comparison) so MariaDB also ranges on the index.
      where.push(`${col} ${cmp}= ? AND (${col} ${cmp} ? OR ${idCol} ${cmp} ?)`);
      params.push(v, v, cursor.id);
    }
    order = `${col} ${dir}, ${idCol} ${dir}`;
  }
  const sql = `${select} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${limit + 1}${offset ? ` OFFSET ${offset}` : ''}`;
  return { sql, params, sort, limit, offset, words: text ? words : undefined, cursor };
}

export interface ListingRow {
  id: string;
  name: string;
  slug: string;
  brand: string | null;
  category_id: string | null;
  min_price: number;
  currency: string;
  created_at: Date;
}

export interface ListingItem {
  id: string;
  name: string;
  slug: string;
  brand: string | null;
  categoryId: string | null;
  price: number;
  currency: string;
  createdAt: string;
}

/** Items of one page and the cursor of the next (null at the end). */
export function toPage(
  rows: ListingRow[],
  q: BuiltQuery,
): { items: ListingItem[]; nextCursor: string | null } {
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const items = page.map((r) => ({
    id: r.id,
    name: r.name,
    slug: r.slug,
    brand: r.brand,
    categoryId: r.category_id,
    price: Number(r.min_price),
    currency: r.currency,
    createdAt: new Date(r.created_at).toISOString(),
  }));
  let nextCursor: string | null = null;
  if (more) {
    const last = page[page.length - 1];
    if (q.sort === 'relevance') {
      const o = q.offset + q.limit;
      nextCursor = o <= MAX_RELEVANCE_OFFSET ? encodeCursor({ s: 'relevance', o }) : null;
    } else
      nextCursor = encodeCursor(
        q.sort === 'newest'
          ? { s: 'newest', v: new Date(last.created_at).toISOString(), id: last.id }
          : { s: q.sort, v: Number(last.min_price), id: last.id },
      );
  }
  return { items, nextCursor };
}
