import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { ValidationFailedError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { isCanonicalUuid } from '../common/uuid';
import { TwoLevelCache } from '../infra/cache/two-level-cache.service';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { InventoryService } from '../inventory';
import { CategoryNotFoundError, ProductNotFoundError } from './catalog.errors';
import { CatalogRepository } from './catalog.repository';
import {
  CategoryNode,
  CreateProductInput,
  ProductDetail,
  UpdateProductInput,
  VariantInput,
  VariantPrice,
} from './catalog.types';
import { BuiltQuery, ListingParams, buildListingQuery, plainListingParams } from './listing-query';
import { CatalogSearch } from './search/catalog-search.service';

const EMPTY_PAGE = JSON.stringify({ items: [], nextCursor: null });

/**
 * A first page's cache key: the statement itself, hashed, so requests that differ only in
 * spelling share one entry and keys have a fixed length.
 */
const listKey = (q: BuiltQuery): string =>
  `list:${createHash('sha1').update(q.sql).update('\u0000').update(JSON.stringify(q.params)).digest('base64url')}`;

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

/**
 * Categories, products and variants: the rules (ids, variants, slugs, what to invalidate). Public
 * reads go through the two-level cache and read the replica (or the primary right after an
 * invalidation, see TwoLevelCache); writes run in a primary transaction and invalidate after it
 * committed. Every statement is CatalogRepository's.
 */
@Injectable()
export class CatalogService {
  constructor(
    private readonly db: DbRouter,
    private readonly repo: CatalogRepository,
    private readonly cache: TwoLevelCache,
    private readonly inventory: InventoryService,
    private readonly search: CatalogSearch,
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  /** The active product as a ready JSON string, or null when it does not exist (or is not active). */
  async productJson(id: string): Promise<string | null> {
    if (!isCanonicalUuid(id)) return null;
    return this.cache.get(`product:${id}`, CATALOG_TTL.product, ({ read }) =>
      read(async (em) => {
        const p = await this.repo.findProduct(id, em);
        return p?.status === 'active' ? p : undefined;
      }),
    );
  }

  /** The product's JSON when this instance's L1 cache holds it, else undefined (nothing is loaded). */
  cachedProductJson(id: string): string | undefined {
    return isCanonicalUuid(id) ? this.cache.peek(`product:${id}`) : undefined;
  }

  /** Any product, any status, from the primary (admin answers). */
  async getProduct(id: string): Promise<ProductDetail> {
    const p = isCanonicalUuid(id) ? await this.repo.findProduct(id) : undefined;
    if (!p) throw new ProductNotFoundError();
    return p;
  }

  /**
   * One listing page as JSON. A page with text is the search port's (CatalogSearch, decision
   * 0032) when its in-process index can answer it; every other page is the SQL statement's
   * (buildListingQuery; FULLTEXT for text): first pages (no cursor) are cached, deeper pages read
   * a replica that has applied the last catalog write (or the primary). The cache key is the
   * statement itself, hashed: requests that differ only in spelling (case, punctuation, word order
   * of nothing searchable, parameter order) share one entry, and keys have a fixed length.
   */
  async listJson(params: ListingParams): Promise<string> {
    if (params.categoryId !== undefined && !isCanonicalUuid(params.categoryId))
      throw new ValidationFailedError('categoryId: not a category id');
    const q = buildListingQuery(params, (col) => this.inventory.inStockSql(col));
    if (!q) return EMPTY_PAGE;
    if (q.words) {
      const page = this.search.page(q, params);
      if (page) return JSON.stringify(page);
      this.search.countFulltext();
    }
    const run = (em: EntityManager) => this.repo.listingPage(em, q);
    if (params.cursor || params.inStock) return JSON.stringify(await this.cache.read(run));
    return (await this.cache.get(listKey(q), CATALOG_TTL.list, ({ read }) => read(run)))!;
  }

  /**
   * The listing page of a plain raw query string (plainListingParams) when it can be answered
   * synchronously — a page with text from the in-process index, or a page this instance's L1
   * cache holds — else undefined: nothing is loaded, and any doubt is left to `listJson`.
   */
  cachedListJson(rawQuery: string): string | undefined {
    const params = plainListingParams(rawQuery);
    if (!params) return undefined;
    let q: BuiltQuery | undefined;
    try {
      q = buildListingQuery(params, (col) => this.inventory.inStockSql(col));
    } catch {
      return undefined;
    }
    if (!q) return undefined;
    if (q.words) {
      const page = this.search.page(q, params);
      if (page) return JSON.stringify(page);
    }
    return this.cache.peek(listKey(q));
  }

  /** The category tree as JSON (cached by the route: HttpCacheInterceptor, namespace `http`). */
  async categoriesJson(): Promise<string> {
    const rows = await this.cache.read((em) => this.repo.categories(em));
    const nodes = new Map<string, CategoryNode>(rows.map((r) => [r.id, { ...r, children: [] }]));
    const roots: CategoryNode[] = [];
    for (const n of nodes.values()) (n.parentId ? nodes.get(n.parentId)?.children : roots)?.push(n);
    return JSON.stringify(roots);
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
        this.cache.getParsed<VariantPrice>(`price:${sku}`, CATALOG_TTL.price, () =>
          this.repo.variantPrice(sku),
        ),
      ),
    );
    return found.filter((v): v is VariantPrice => v !== null);
  }

  /**
   * {@link findVariantsBySkus} answered from this instance's L1 cache alone, synchronously, when
   * it holds every one of the SKUs (found or "not found"); else undefined and nothing is loaded.
   * The same entries, so the same prices and the same invalidation. The objects are frozen.
   */
  cachedVariantsBySkus(skus: readonly string[]): VariantPrice[] | undefined {
    const out: VariantPrice[] = [];
    for (let i = 0; i < skus.length; i++) {
      const sku = skus[i];
      if (skus.indexOf(sku) < i) continue;
      const v = this.cache.peekParsed<VariantPrice>(`price:${sku}`);
      if (v === undefined) return undefined;
      if (v !== null) out.push(v);
    }
    return out;
  }

  // ---- writes ------------------------------------------------------------------------------

  async createCategory(input: { name: string; slug?: string; parentId?: string }): Promise<CategoryNode> {
    const category = {
      id: newId(),
      parentId: input.parentId ?? null,
      name: input.name,
      slug: input.slug ?? slugify(input.name),
    };
    await this.db.transaction(async () => {
      if (input.parentId && !(await this.categoryExists(input.parentId))) throw new CategoryNotFoundError();
      await this.repo.insertCategory(category);
    });
    // The tree is served through the standard cache API (namespace `http`, see the controller).
    await this.cache.afterWrite({ namespaces: ['http'] });
    return { ...category, children: [] };
  }

  async createProduct(input: CreateProductInput): Promise<ProductDetail> {
    this.checkVariants(input.variants, true);
    const id = newId();
    const { price, currency } = cheapest(input.variants);
    await this.db.transaction(async () => {
      if (input.categoryId && !(await this.categoryExists(input.categoryId)))
        throw new ValidationFailedError('categoryId: no such category');
      await this.repo.insertProduct({
        id,
        categoryId: input.categoryId ?? null,
        name: input.name,
        slug: input.slug ?? `${slugify(input.name).slice(0, 200)}-${id.slice(-8)}`,
        description: input.description ?? null,
        brand: input.brand ?? null,
        attributes: input.attributes ?? {},
        status: input.status ?? 'active',
        minPrice: price,
        currency,
      });
      await this.insertVariants(id, input.variants);
      await this.repo.syncListing(id);
    });
    await this.invalidateProduct(id);
    return this.getProduct(id);
  }

  async updateProduct(id: string, patch: UpdateProductInput): Promise<ProductDetail> {
    if (patch.variants) this.checkVariants(patch.variants, false);
    if (!isCanonicalUuid(id)) throw new ProductNotFoundError();
    const { variants, ...fields } = patch;
    await this.db.transaction(async () => {
      if (!(await this.repo.lockProduct(id))) throw new ProductNotFoundError();
      if (patch.categoryId && !(await this.categoryExists(patch.categoryId)))
        throw new ValidationFailedError('categoryId: no such category');
      await this.repo.updateProduct(id, fields);
      for (const v of variants ?? [])
        if (!(await this.repo.updateVariantPrice(id, v))) await this.insertVariants(id, [v]);
      if (variants?.length) await this.repo.refreshMinPrice(id);
      await this.repo.syncListing(id);
    });
    await this.invalidateProduct(id);
    return this.getProduct(id);
  }

  /** DELETE archives: the product leaves listings and detail, its variants stay for past orders. */
  async archiveProduct(id: string): Promise<void> {
    if (!isCanonicalUuid(id)) throw new ProductNotFoundError();
    await this.db.transaction(async () => {
      if (!(await this.repo.archive(id))) throw new ProductNotFoundError();
    });
    await this.invalidateProduct(id);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private async categoryExists(id: string): Promise<boolean> {
    return isCanonicalUuid(id) && (await this.repo.categoryExists(id));
  }

  private checkVariants(variants: VariantInput[], atLeastOne: boolean): void {
    if (atLeastOne && !variants.length)
      throw new ValidationFailedError('variants: at least one variant is required');
    const skus = new Set(variants.map((v) => v.sku));
    if (skus.size !== variants.length) throw new ValidationFailedError('variants: each sku once');
  }

  private async insertVariants(productId: string, variants: VariantInput[]): Promise<void> {
    await this.repo.insertVariants(productId, variants);
    // Stock belongs to the inventory module; ensureStock joins this transaction.
    for (const v of variants) await this.inventory.ensureStock(v.sku, v.stockOnHand ?? 0);
  }

  /**
   * After a product write committed: the fence, its page, every listing and every order price
   * (other instances' search indexes follow the broadcast), then this instance's search index.
   */
  private async invalidateProduct(id: string): Promise<void> {
    await this.cache.afterWrite({ keys: [`product:${id}`], namespaces: ['list', 'price'] });
    await this.search.refresh([id]);
  }
}

function cheapest(variants: VariantInput[]): { price: number; currency: string } {
  const v = [...variants].sort((a, b) => a.price - b.price || (a.sku < b.sku ? -1 : 1))[0];
  return { price: v.price, currency: v.currency };
}
