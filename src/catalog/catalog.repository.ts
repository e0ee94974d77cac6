import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, isDuplicate } from '../infra/database/mysql-results';
import { DuplicateError } from './catalog.errors';
import type {
  CategoryRecord,
  ListingPage,
  ProductDetail,
  ProductStatus,
  UpdateProductInput,
  VariantInput,
  VariantPrice,
} from './catalog.types';
import { BuiltQuery, ListingRow, toPage } from './listing-query';

/** A product with its variants, one row per variant (LEFT JOIN: a product without any has one row). */
interface DetailRow {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  brand: string | null;
  category_id: string | null;
  attributes: string | Record<string, unknown> | null;
  status: ProductStatus;
  created_at: Date;
  sku: string | null;
  price_minor: number | string | null;
  v_currency: string | null;
}

interface CategoryRow {
  id: string;
  parent_id: string | null;
  name: string;
  slug: string;
}

interface VariantPriceRow {
  sku: string;
  product_id: string;
  name: string;
  price_minor: number | string;
  currency: string;
  status: string;
  category_id: string | null;
  category_ids: string | null;
}

/** A product as the search index reads it: the listing row, its text, status and categories. */
export interface SearchDocRow extends ListingRow {
  description: string | null;
  status: ProductStatus;
  updated_at: Date;
  /** Comma-separated product_categories ids (its category and every ancestor), or null. */
  category_ids: string | null;
}

const SEARCH_DOC_SELECT = `SELECT p.id, p.name, p.slug, p.brand, p.category_id, p.min_price, p.currency, p.created_at,
       p.description, p.status, p.updated_at,
       (SELECT GROUP_CONCAT(pc.category_id) FROM product_categories pc WHERE pc.product_id = p.id) AS category_ids
  FROM products p`;

/** A new product's row (its variants are inserted with {@link CatalogRepository.insertVariants}). */
export interface NewProduct {
  id: string;
  categoryId: string | null;
  name: string;
  slug: string;
  description: string | null;
  brand: string | null;
  attributes: Record<string, unknown>;
  status: ProductStatus;
  minPrice: number;
  currency: string;
}

/** The product columns a PATCH may set (variants are written one by one). */
export type ProductPatch = Omit<UpdateProductInput, 'variants'>;

/** Patch fields and their columns, in the order the UPDATE sets them. */
const PATCH_COLUMNS: [keyof ProductPatch, string][] = [
  ['name', 'name'],
  ['slug', 'slug'],
  ['description', 'description'],
  ['brand', 'brand'],
  ['categoryId', 'category_id'],
  ['attributes', 'attributes'],
  ['status', 'status'],
];

const toDetail = (rows: DetailRow[]): ProductDetail => {
  const p = rows[0];
  return {
    id: p.id,
    name: p.name,
    slug: p.slug,
    description: p.description,
    brand: p.brand,
    categoryId: p.category_id,
    attributes: typeof p.attributes === 'string' ? JSON.parse(p.attributes) : (p.attributes ?? {}),
    status: p.status,
    createdAt: new Date(p.created_at).toISOString(),
    variants: rows
      .filter((r) => r.sku)
      .map((r) => ({ sku: r.sku!, price: Number(r.price_minor), currency: r.v_currency! })),
  };
};

const toVariantPrice = (r: VariantPriceRow): VariantPrice => ({
  sku: r.sku,
  productId: r.product_id,
  productName: r.name,
  price: Number(r.price_minor),
  currency: r.currency,
  active: r.status === 'active',
  categoryId: r.category_id,
  categoryIds: r.category_ids ? r.category_ids.split(',') : [],
});

/**
 * Every statement on `categories`, `products`, `product_variants` and `product_categories` (the
 * listing rows). Writes run in the caller's transaction (DbRouter.execute joins it); reads the
 * caller routes through its cache take the EntityManager the cache chose (`em`), the others read
 * the primary (or the open transaction). A unique key that refuses a write answers DuplicateError
 * (SKU_TAKEN / SLUG_TAKEN). The listing statement is built by `listing-query.ts`.
 */
@Injectable()
export class CatalogRepository {
  constructor(private readonly db: DbRouter) {}

  // ---- reads -------------------------------------------------------------------------------

  /** Any product, any status, with its variants cheapest first; `em` defaults to the primary. */
  async findProduct(
    id: string,
    em: EntityManager = this.db.primaryReader(),
  ): Promise<ProductDetail | undefined> {
    const rows: DetailRow[] = await em.query(
      `SELECT p.id, p.name, p.slug, p.description, p.brand, p.category_id, p.attributes, p.status, p.created_at,
              v.sku, v.price_minor, v.currency AS v_currency
         FROM products p LEFT JOIN product_variants v ON v.product_id = p.id
        WHERE p.id = ? ORDER BY v.price_minor, v.sku`,
      [id],
    );
    return rows.length ? toDetail(rows) : undefined;
  }

  /** One listing page of a statement built by `buildListingQuery`. */
  async listingPage(em: EntityManager, q: BuiltQuery): Promise<ListingPage> {
    return toPage((await em.query(q.sql, q.params)) as ListingRow[], q);
  }

  /** Every category, by name. */
  async categories(em: EntityManager): Promise<CategoryRecord[]> {
    const rows: CategoryRow[] = await em.query(
      'SELECT id, parent_id, name, slug FROM categories ORDER BY name, id',
    );
    return rows.map((r) => ({ id: r.id, parentId: r.parent_id, name: r.name, slug: r.slug }));
  }

  async categoryExists(id: string): Promise<boolean> {
    return (await this.db.primaryReader().query('SELECT 1 FROM categories WHERE id = ?', [id])).length > 0;
  }

  async categoryIdBySlug(slug: string): Promise<string | undefined> {
    const rows: { id: string }[] = await this.db
      .primaryReader()
      .query('SELECT id FROM categories WHERE slug = ?', [slug]);
    return rows[0]?.id;
  }

  async productSlugExists(slug: string): Promise<boolean> {
    return (await this.db.primaryReader().query('SELECT 1 FROM products WHERE slug = ?', [slug])).length > 0;
  }

  /** A SKU's price for an order, read on the primary, with its product's category and that category's ancestors. */
  async variantPrice(sku: string): Promise<VariantPrice | undefined> {
    const rows: VariantPriceRow[] = await this.db.primaryReader().query(
      `SELECT v.sku, v.product_id, p.name, v.price_minor, v.currency, p.status, p.category_id,
              (SELECT GROUP_CONCAT(pc.category_id) FROM product_categories pc WHERE pc.product_id = p.id) AS category_ids
           FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.sku = ?`,
      [sku],
    );
    return rows[0] && toVariantPrice(rows[0]);
  }

  // ---- the search index's reads (decision 0032), all on the primary -------------------------

  /** The database's clock (the index's first look for changes starts there). */
  async clock(): Promise<Date> {
    const rows: { now: Date }[] = await this.db.primaryReader().query('SELECT NOW(3) AS now');
    return new Date(rows[0].now);
  }

  /** Up to `limit` active products with ids after `afterId`, by id (the index's load). */
  async activeSearchDocs(afterId: string, limit: number): Promise<SearchDocRow[]> {
    return this.db
      .primaryReader()
      .query(`${SEARCH_DOC_SELECT} WHERE p.id > ? AND p.status = 'active' ORDER BY p.id LIMIT ${limit}`, [
        afterId,
      ]);
  }

  /** The products with these ids, any status (missing ids have no row). */
  async searchDocs(ids: string[]): Promise<SearchDocRow[]> {
    if (!ids.length) return [];
    return this.db.primaryReader().query(`${SEARCH_DOC_SELECT} WHERE p.id IN (?)`, [ids]);
  }

  /**
   * Up to `limit` products changed at or after `since` (updated_at, then id, after the key
   * `(since, afterId)`): ids and change times only, read along idx_products_updated.
   */
  async changedProducts(
    since: Date,
    afterId: string,
    limit: number,
  ): Promise<{ id: string; updated_at: Date }[]> {
    return this.db.primaryReader().query(
      `SELECT id, updated_at FROM products
        WHERE updated_at >= ? AND (updated_at > ? OR id > ?)
        ORDER BY updated_at, id LIMIT ${limit}`,
      [since, since, afterId],
    );
  }

  // ---- writes (in the caller's transaction) --------------------------------------------------

  async insertCategory(c: CategoryRecord): Promise<void> {
    await this.unique(() =>
      this.db.execute('INSERT INTO categories (id, parent_id, name, slug) VALUES (?, ?, ?, ?)', [
        c.id,
        c.parentId,
        c.name,
        c.slug,
      ]),
    );
  }

  async insertProduct(p: NewProduct): Promise<void> {
    await this.unique(() =>
      this.db.execute(
        `INSERT INTO products (id, category_id, name, slug, description, brand, attributes, status, min_price, currency)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          p.id,
          p.categoryId,
          p.name,
          p.slug,
          p.description,
          p.brand,
          JSON.stringify(p.attributes),
          p.status,
          p.minPrice,
          p.currency,
        ],
      ),
    );
  }

  /** The product row, locked until the transaction ends; false when there is none. */
  async lockProduct(id: string): Promise<boolean> {
    return (
      (await this.db.primaryReader().query('SELECT id FROM products WHERE id = ? FOR UPDATE', [id])).length >
      0
    );
  }

  /** Sets the patch's product columns (nothing when it has none). */
  async updateProduct(id: string, patch: ProductPatch): Promise<void> {
    const set = PATCH_COLUMNS.filter(([field]) => patch[field] !== undefined);
    if (!set.length) return;
    await this.unique(() =>
      this.db.execute(`UPDATE products SET ${set.map(([, col]) => `${col} = ?`).join(', ')} WHERE id = ?`, [
        ...set.map(([field]) => (field === 'attributes' ? JSON.stringify(patch.attributes) : patch[field])),
        id,
      ]),
    );
  }

  /** Sets a variant's price when the SKU is the product's; false when it is not (no such variant). */
  async updateVariantPrice(productId: string, v: VariantInput): Promise<boolean> {
    const res = await this.unique(() =>
      this.db.execute(
        'UPDATE product_variants SET price_minor = ?, currency = ? WHERE sku = ? AND product_id = ?',
        [v.price, v.currency, v.sku, productId],
      ),
    );
    return affected(res) > 0;
  }

  async insertVariants(productId: string, variants: VariantInput[]): Promise<void> {
    await this.unique(() =>
      this.db.execute(
        `INSERT INTO product_variants (sku, product_id, price_minor, currency) VALUES ${variants.map(() => '(?, ?, ?, ?)').join(', ')}`,
        variants.flatMap((v) => [v.sku, productId, v.price, v.currency]),
      ),
    );
  }

  /** The product's listed price and currency become its cheapest variant's. */
  async refreshMinPrice(productId: string): Promise<void> {
    await this.db.execute(
      `UPDATE products p JOIN (SELECT price_minor, currency FROM product_variants WHERE product_id = ?
             ORDER BY price_minor, sku LIMIT 1) c SET p.min_price = c.price_minor, p.currency = c.currency WHERE p.id = ?`,
      [productId, productId],
    );
  }

  /** Archives the product and its listing rows; false when there is no such product. */
  async archive(id: string): Promise<boolean> {
    if (affected(await this.db.execute(`UPDATE products SET status = 'archived' WHERE id = ?`, [id])) === 0)
      return false;
    await this.db.execute(`UPDATE product_categories SET status = 'archived' WHERE product_id = ?`, [id]);
    return true;
  }

  /** Rewrites the product's listing rows: one per ancestor category (see the catalog migration). */
  async syncListing(productId: string): Promise<void> {
    await this.db.execute('DELETE FROM product_categories WHERE product_id = ?', [productId]);
    await this.db.execute(
      `INSERT INTO product_categories (category_id, product_id, status, created_at, min_price)
       WITH RECURSIVE anc (id, parent_id) AS (
         SELECT c.id, c.parent_id FROM categories c JOIN products p ON p.category_id = c.id WHERE p.id = ?
         UNION ALL
         SELECT c.id, c.parent_id FROM categories c JOIN anc ON c.id = anc.parent_id
       )
       SELECT anc.id, p.id, p.status, p.created_at, p.min_price FROM anc JOIN products p ON p.id = ?`,
      [productId, productId],
    );
  }

  /** A duplicate slug or SKU becomes SLUG_TAKEN / SKU_TAKEN with the value the key refused. */
  private async unique<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isDuplicate(err)) throw err;
      const msg = err.sqlMessage ?? err.message;
      const value = /Duplicate entry '([^']*)'/.exec(msg)?.[1] ?? '';
      throw new DuplicateError(/slug/i.test(msg) ? 'SLUG' : 'SKU', value);
    }
  }
}
