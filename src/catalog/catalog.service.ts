import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ValidationFailedError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { isCanonicalUuid } from '../common/uuid';
import { TwoLevelCache } from '../infra/cache/two-level-cache.service';
import { DbRouter } from '../infra/database/db-router.service';
import { isDuplicate } from '../infra/database/mysql-results';
import { InventoryService } from '../inventory';
import { CategoryNotFoundError, DuplicateError, ProductNotFoundError } from './catalog.errors';
import {
  CategoryNode,
  CreateProductInput,
  ProductDetail,
  ProductStatus,
  UpdateProductInput,
  VariantInput,
  VariantPrice,
} from './catalog.types';
import { ListingParams, ListingRow, buildListingQuery, toPage } from './listing-query';

const EMPTY_PAGE = JSON.stringify({ items: [], nextCursor: null });

/**
 * Cache lifetimes: L1 bounds cross-instance staleness if a broadcast is lost; L2 absorbs cold
 * instances. Listing keys come from request values (`open`): their Redis memory is budgeted.
 */
export const CATALOG_TTL = {
  product: { l1Ms: 3000, l2Ms: 5 * 60_000, negativeMs: 5000 },
  list: { l1Ms: 2000, l2Ms: 30_000, negativeMs: 2000, open: true },
  /** Order pricing: short, so even a lost invalidation leaves an old price for seconds only. */
  price: { l1Ms: 2000, l2Ms: 10_000, negativeMs: 1000 },
};

export const slugify = (s: string): string =>
  s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 200) || 'item';

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
  price_minor: number | null;
  v_currency: string | null;
}

/**
 * Categories, products and variants. Public reads go through the two-level cache and read the
 * replica (or the primary right after an invalidation, see TwoLevelCache); writes run in a
 * primary transaction and invalidate after it committed.
 */
@Injectable()
export class CatalogService {
  constructor(
    private readonly db: DbRouter,
    private readonly cache: TwoLevelCache,
    private readonly inventory: InventoryService,
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  /** The active product as a ready JSON string, or null when it does not exist (or is not active). */
  async productJson(id: string): Promise<string | null> {
    if (!isCanonicalUuid(id)) return null;
    return this.cache.get(`product:${id}`, CATALOG_TTL.product, ({ read }) =>
      read((em) => this.loadProduct(em, id, true)),
    );
  }

  /** The product's JSON when this instance's L1 cache holds it, else undefined (nothing is loaded). */
  cachedProductJson(id: string): string | undefined {
    return isCanonicalUuid(id) ? this.cache.peek(`product:${id}`) : undefined;
  }

  /** Any product, any status, from the primary (admin answers). */
  async getProduct(id: string): Promise<ProductDetail> {
    const p = isCanonicalUuid(id) ? await this.loadProduct(this.db.primaryReader(), id, false) : undefined;
    if (!p) throw new ProductNotFoundError();
    return p;
  }

  /**
   * One listing page as JSON; first pages (no cursor) are cached, deeper pages read a replica
   * that has applied the last catalog write (or the primary). The cache key is the statement
   * itself, hashed: requests that differ only in spelling (case, punctuation, word order of
   * nothing searchable, parameter order) share one entry, and keys have a fixed length.
   */
  async listJson(params: ListingParams): Promise<string> {
    if (params.categoryId !== undefined && !isCanonicalUuid(params.categoryId))
      throw new ValidationFailedError('categoryId: not a category id');
    const q = buildListingQuery(params, (col) => this.inventory.inStockSql(col));
    if (!q) return EMPTY_PAGE;
    const run = async (em: EntityManager) => toPage((await em.query(q.sql, q.params)) as ListingRow[], q);
    if (params.cursor || params.inStock) return JSON.stringify(await this.cache.read(run));
    const key = `list:${createHash('sha1').update(q.sql).update('\u0000').update(JSON.stringify(q.params)).digest('base64url')}`;
    return (await this.cache.get(key, CATALOG_TTL.list, ({ read }) => read(run)))!;
  }

  /** The category tree as JSON (cached by the route: HttpCacheInterceptor, namespace `http`). */
  async categoriesJson(): Promise<string> {
    return JSON.stringify(
      await this.cache.read(async (em) => {
        const rows: { id: string; parent_id: string | null; name: string; slug: string }[] = await em.query(
          'SELECT id, parent_id, name, slug FROM categories ORDER BY name, id',
        );
        const nodes = new Map<string, CategoryNode>(
          rows.map((r) => [
            r.id,
            { id: r.id, parentId: r.parent_id, name: r.name, slug: r.slug, children: [] },
          ]),
        );
        const roots: CategoryNode[] = [];
        for (const n of nodes.values()) (n.parentId ? nodes.get(n.parentId)?.children : roots)?.push(n);
        return roots;
      }),
    );
  }

  /**
   * Prices for orders, per SKU through the cache (`price:` keys, short TTLs). A miss reads the
   * primary (a replica may still show the old price). Every product write moves the `price`
   * namespace to a new generation, so new orders on every instance see a changed price, a
   * deactivated product or a new SKU as soon as the broadcast arrives — within CATALOG_TTL.price
   * (l1 + l2, seconds) if a broadcast is lost or Redis is down.
   */
  async findVariantsBySkus(skus: string[]): Promise<VariantPrice[]> {
    const unique = [...new Set(skus)];
    const found = await Promise.all(
      unique.map((sku) =>
        this.cache.get(`price:${sku}`, CATALOG_TTL.price, () => this.loadVariantPrice(sku)),
      ),
    );
    return found.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as VariantPrice);
  }

  private async loadVariantPrice(sku: string): Promise<VariantPrice | undefined> {
    const rows: {
      sku: string;
      product_id: string;
      name: string;
      price_minor: number;
      currency: string;
      status: string;
      category_id: string | null;
      category_ids: string | null;
    }[] = await this.db.primaryReader().query(
      `SELECT v.sku, v.product_id, p.name, v.price_minor, v.currency, p.status, p.category_id,
              (SELECT GROUP_CONCAT(pc.category_id) FROM product_categories pc WHERE pc.product_id = p.id) AS category_ids
           FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.sku = ?`,
      [sku],
    );
    const r = rows[0];
    return (
      r && {
        sku: r.sku,
        productId: r.product_id,
        productName: r.name,
        price: Number(r.price_minor),
        currency: r.currency,
        active: r.status === 'active',
        categoryId: r.category_id,
        categoryIds: r.category_ids ? r.category_ids.split(',') : [],
      }
    );
  }

  // ---- writes ------------------------------------------------------------------------------

  async createCategory(input: { name: string; slug?: string; parentId?: string }): Promise<CategoryNode> {
    const id = newId();
    const slug = input.slug ?? slugify(input.name);
    await this.db.transaction(async (em) => {
      if (input.parentId && !(await this.categoryExists(em, input.parentId)))
        throw new CategoryNotFoundError();
      await this.unique(() =>
        em.query('INSERT INTO categories (id, parent_id, name, slug) VALUES (?, ?, ?, ?)', [
          id,
          input.parentId ?? null,
          input.name,
          slug,
        ]),
      );
    });
    // The tree is served through the standard cache API (namespace `http`, see the controller).
    await this.cache.afterWrite({ namespaces: ['http'] });
    return { id, parentId: input.parentId ?? null, name: input.name, slug, children: [] };
  }

  async createProduct(input: CreateProductInput): Promise<ProductDetail> {
    this.checkVariants(input.variants, true);
    const id = newId();
    const slug = input.slug ?? `${slugify(input.name).slice(0, 200)}-${id.slice(-8)}`;
    const status = input.status ?? 'active';
    const { price, currency } = cheapest(input.variants);
    await this.db.transaction(async (em) => {
      if (input.categoryId && !(await this.categoryExists(em, input.categoryId)))
        throw new ValidationFailedError('categoryId: no such category');
      await this.unique(async () => {
        await em.query(
          `INSERT INTO products (id, category_id, name, slug, description, brand, attributes, status, min_price, currency)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            id,
            input.categoryId ?? null,
            input.name,
            slug,
            input.description ?? null,
            input.brand ?? null,
            JSON.stringify(input.attributes ?? {}),
            status,
            price,
            currency,
          ],
        );
        await this.insertVariants(em, id, input.variants);
      });
      await this.syncListing(em, id);
    });
    await this.invalidateProduct(id);
    return this.getProduct(id);
  }

  async updateProduct(id: string, patch: UpdateProductInput): Promise<ProductDetail> {
    if (patch.variants) this.checkVariants(patch.variants, false);
    if (!isCanonicalUuid(id)) throw new ProductNotFoundError();
    await this.db.transaction(async (em) => {
      const found = await em.query('SELECT id FROM products WHERE id = ? FOR UPDATE', [id]);
      if (!found.length) throw new ProductNotFoundError();
      if (patch.categoryId && !(await this.categoryExists(em, patch.categoryId)))
        throw new ValidationFailedError('categoryId: no such category');
      const sets: string[] = [];
      const params: unknown[] = [];
      const set = (col: string, v: unknown) => {
        sets.push(`${col} = ?`);
        params.push(v);
      };
      if (patch.name !== undefined) set('name', patch.name);
      if (patch.slug !== undefined) set('slug', patch.slug);
      if (patch.description !== undefined) set('description', patch.description);
      if (patch.brand !== undefined) set('brand', patch.brand);
      if (patch.categoryId !== undefined) set('category_id', patch.categoryId);
      if (patch.attributes !== undefined) set('attributes', JSON.stringify(patch.attributes));
      if (patch.status !== undefined) set('status', patch.status);
      await this.unique(async () => {
        if (sets.length)
          await em.query(`UPDATE products SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
        for (const v of patch.variants ?? []) {
          const res = await em.query(
            'UPDATE product_variants SET price_minor = ?, currency = ? WHERE sku = ? AND product_id = ?',
            [v.price, v.currency, v.sku, id],
          );
          if (Number((res as { affectedRows: number }).affectedRows) === 0)
            await this.insertVariants(em, id, [v]);
        }
      });
      if (patch.variants?.length)
        await em.query(
          `UPDATE products p JOIN (SELECT price_minor, currency FROM product_variants WHERE product_id = ?
             ORDER BY price_minor, sku LIMIT 1) c SET p.min_price = c.price_minor, p.currency = c.currency WHERE p.id = ?`,
          [id, id],
        );
      await this.syncListing(em, id);
    });
    await this.invalidateProduct(id);
    return this.getProduct(id);
  }

  /** DELETE archives: the product leaves listings and detail, its variants stay for past orders. */
  async archiveProduct(id: string): Promise<void> {
    if (!isCanonicalUuid(id)) throw new ProductNotFoundError();
    await this.db.transaction(async (em) => {
      const res = await em.query(`UPDATE products SET status = 'archived' WHERE id = ?`, [id]);
      if (Number((res as { affectedRows: number }).affectedRows) === 0) throw new ProductNotFoundError();
      await em.query(`UPDATE product_categories SET status = 'archived' WHERE product_id = ?`, [id]);
    });
    await this.invalidateProduct(id);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private async loadProduct(
    em: EntityManager,
    id: string,
    activeOnly: boolean,
  ): Promise<ProductDetail | undefined> {
    const rows: DetailRow[] = await em.query(
      `SELECT p.id, p.name, p.slug, p.description, p.brand, p.category_id, p.attributes, p.status, p.created_at,
              v.sku, v.price_minor, v.currency AS v_currency
         FROM products p LEFT JOIN product_variants v ON v.product_id = p.id
        WHERE p.id = ? ORDER BY v.price_minor, v.sku`,
      [id],
    );
    const p = rows[0];
    if (!p || (activeOnly && p.status !== 'active')) return undefined;
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
  }

  private async categoryExists(em: EntityManager, id: string): Promise<boolean> {
    return isCanonicalUuid(id) && (await em.query('SELECT 1 FROM categories WHERE id = ?', [id])).length > 0;
  }

  private checkVariants(variants: VariantInput[], atLeastOne: boolean): void {
    if (atLeastOne && !variants.length)
      throw new ValidationFailedError('variants: at least one variant is required');
    const skus = new Set(variants.map((v) => v.sku));
    if (skus.size !== variants.length) throw new ValidationFailedError('variants: each sku once');
  }

  private async insertVariants(
    em: EntityManager,
    productId: string,
    variants: VariantInput[],
  ): Promise<void> {
    await em.query(
      `INSERT INTO product_variants (sku, product_id, price_minor, currency) VALUES ${variants.map(() => '(?, ?, ?, ?)').join(', ')}`,
      variants.flatMap((v) => [v.sku, productId, v.price, v.currency]),
    );
    // Stock belongs to the inventory module; ensureStock joins this transaction.
    for (const v of variants) await this.inventory.ensureStock(v.sku, v.stockOnHand ?? 0);
  }

  /** Rewrites the product's listing rows: one per ancestor category (see the catalog migration). */
  private async syncListing(em: EntityManager, productId: string): Promise<void> {
    await em.query('DELETE FROM product_categories WHERE product_id = ?', [productId]);
    await em.query(
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

  /** After a product write committed: the fence, its page, every listing and every order price. */
  private async invalidateProduct(id: string): Promise<void> {
    await this.cache.afterWrite({ keys: [`product:${id}`], namespaces: ['list', 'price'] });
  }
}

function cheapest(variants: VariantInput[]): { price: number; currency: string } {
  const v = [...variants].sort((a, b) => a.price - b.price || (a.sku < b.sku ? -1 : 1))[0];
  return { price: v.price, currency: v.currency };
}
