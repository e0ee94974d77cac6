import type { EntityManager } from 'typeorm';
import { TwoLevelCache } from '../infra/cache/two-level-cache.service';
import { InventoryService } from '../inventory';
import { DuplicateError } from './catalog.errors';
import { CatalogRepository } from './catalog.repository';
import { CATALOG_TTL, CatalogService, slugify } from './catalog.service';
import { CatalogSearch } from './search/catalog-search.service';
import type { ProductDetail, VariantPrice } from './catalog.types';
import { automock, transactionStub } from '../../test/support/unit-stubs';

const PRODUCT_ID = '01936f0e-0000-7000-8000-0000000000c1';
const CATEGORY_ID = '01936f0e-0000-7000-8000-0000000000d1';
const CHILD_ID = '01936f0e-0000-7000-8000-0000000000d2';

const aProduct = (over: Partial<ProductDetail> = {}): ProductDetail => ({
  id: PRODUCT_ID,
  name: 'Organic cotton T-shirt',
  slug: 'organic-cotton-t-shirt',
  description: null,
  brand: 'Northwind',
  categoryId: null,
  attributes: {},
  status: 'active',
  createdAt: '2026-12-01T10:00:00.000Z',
  variants: [{ sku: 'TSHIRT-S', price: 1999, currency: 'EUR' }],
  ...over,
});

const aPrice = (sku: string): VariantPrice => ({
  sku,
  productId: PRODUCT_ID,
  productName: 'Organic cotton T-shirt',
  price: 1999,
  currency: 'EUR',
  active: true,
  categoryId: null,
  categoryIds: [],
});

describe('CatalogService', () => {
  /**
   * The cache as the service sees it: `get` runs the loader on a miss (its `read` hands over the
   * EntityManager the cache chose) and stores the JSON, `read` runs a fenced read, `afterWrite`
   * is recorded in the same event list as the commits, so a spec can say "after the commit".
   */
  const build = () => {
    const { db, events } = transactionStub();
    const repo = automock(CatalogRepository);
    const inventory = automock(InventoryService);
    const cache = automock(TwoLevelCache);
    const em = { replica: true } as unknown as EntityManager;
    const stored = new Map<string, string | null>();
    cache.get.mockImplementation(async (key, _ttl, load) => {
      if (!stored.has(key)) {
        const v = await load({ read: (fn) => fn(em) } as Parameters<typeof load>[0]);
        stored.set(key, v === undefined ? null : JSON.stringify(v));
      }
      return stored.get(key)!;
    });
    // The same entries, parsed (the real cache keeps the parsed form beside its L1 entry).
    cache.getParsed.mockImplementation(async (key, ttl, load) => {
      const raw = await cache.get(key, ttl, load);
      return raw === null ? null : JSON.parse(raw);
    });
    cache.peekParsed.mockImplementation((key) => {
      const raw = stored.get(key);
      return raw === undefined ? undefined : raw === null ? null : JSON.parse(raw);
    });
    cache.read.mockImplementation((fn) => fn(em));
    cache.afterWrite.mockImplementation(async (change) => {
      events.push(`afterWrite ${JSON.stringify(change)}`);
    });
    inventory.ensureStock.mockResolvedValue();
    inventory.inStockSql.mockImplementation(
      (col) => `EXISTS (SELECT 1 FROM inventory_items WHERE sku = ${col})`,
    );
    // The search port with its index not loaded: every page with text is FULLTEXT's.
    const search = automock(CatalogSearch);
    search.page.mockReturnValue(undefined);
    search.countFulltext.mockReturnValue();
    search.refresh.mockImplementation(async (ids) => {
      events.push(`search refresh ${ids.join(',')}`);
    });
    const service = new CatalogService(db, repo, cache, inventory, search);
    return { service, db, events, repo, inventory, cache, em, stored, search };
  };

  describe('productJson', () => {
    it('answers an active product through the cache, loaded on the EntityManager the cache chose', async () => {
      const { service, repo, cache, em } = build();
      repo.findProduct.mockResolvedValue(aProduct());
      expect(JSON.parse((await service.productJson(PRODUCT_ID))!)).toEqual(aProduct());
      expect(cache.get).toHaveBeenCalledWith(
        `product:${PRODUCT_ID}`,
        CATALOG_TTL.product,
        expect.any(Function),
      );
      expect(repo.findProduct).toHaveBeenCalledWith(PRODUCT_ID, em);
    });

    it('answers null for a draft or archived product (cached as a miss) and never reads for a malformed id', async () => {
      const { service, repo, stored } = build();
      repo.findProduct.mockResolvedValue(aProduct({ status: 'draft' }));
      await expect(service.productJson(PRODUCT_ID)).resolves.toBeNull();
      expect(stored.get(`product:${PRODUCT_ID}`)).toBeNull();
      await expect(service.productJson('not-a-uuid')).resolves.toBeNull();
      await expect(service.productJson(PRODUCT_ID.toUpperCase())).resolves.toBeNull();
      expect(repo.findProduct).toHaveBeenCalledTimes(1);
    });
  });

  describe('getProduct', () => {
    it('answers any status from the primary (the repository default), 404 when absent or malformed', async () => {
      const { service, repo } = build();
      repo.findProduct.mockResolvedValueOnce(aProduct({ status: 'archived' }));
      await expect(service.getProduct(PRODUCT_ID)).resolves.toMatchObject({ status: 'archived' });
      expect(repo.findProduct).toHaveBeenCalledWith(PRODUCT_ID);
      repo.findProduct.mockResolvedValueOnce(undefined);
      await expect(service.getProduct(PRODUCT_ID)).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
      await expect(service.getProduct('42')).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
      expect(repo.findProduct).toHaveBeenCalledTimes(2);
    });
  });

  describe('listJson', () => {
    const page = { items: [], nextCursor: null };

    it('caches first pages under the hashed statement: spellings of one query share an entry', async () => {
      const { service, repo, cache } = build();
      repo.listingPage.mockResolvedValue(page);
      await service.listJson({ q: 'Cotton shirt' });
      await service.listJson({ q: 'cotton, SHIRT!' });
      await service.listJson({ q: 'wool shirt' });
      const keys = cache.get.mock.calls.map(([key]) => key);
      expect(keys[0]).toMatch(/^list:[\w-]{27}$/);
      expect(keys[1]).toBe(keys[0]);
      expect(keys[2]).not.toBe(keys[0]);
      expect(cache.get.mock.calls[0][1]).toBe(CATALOG_TTL.list);
      expect(repo.listingPage).toHaveBeenCalledTimes(2);
    });

    it('reads deeper pages and in-stock filters through the fence, uncached', async () => {
      const { service, repo, cache, em, inventory } = build();
      repo.listingPage.mockResolvedValue(page);
      await service.listJson({ inStock: true });
      expect(cache.read).toHaveBeenCalledTimes(1);
      expect(cache.get).not.toHaveBeenCalled();
      const [usedEm, q] = repo.listingPage.mock.calls[0];
      expect(usedEm).toBe(em);
      expect(q.sql).toContain('EXISTS (SELECT 1 FROM inventory_items WHERE sku =');
      expect(inventory.inStockSql).toHaveBeenCalled();
    });

    it('answers an empty page without a read when nothing in q is searchable; refuses a malformed category id', async () => {
      const { service, repo } = build();
      expect(JSON.parse(await service.listJson({ q: 'a b' }))).toEqual({ items: [], nextCursor: null });
      await expect(service.listJson({ categoryId: 'shoes' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      expect(repo.listingPage).not.toHaveBeenCalled();
    });
  });

  describe('categoriesJson', () => {
    it('builds the tree from the rows in their order; a row whose parent is missing is left out', async () => {
      const { service, repo } = build();
      repo.categories.mockResolvedValue([
        { id: 'a', parentId: null, name: 'Apparel', slug: 'apparel' },
        { id: 'e', parentId: null, name: 'Electronics', slug: 'electronics' },
        { id: 's', parentId: 'a', name: 'Shoes', slug: 'shoes' },
        { id: 'x', parentId: 'gone', name: 'Orphan', slug: 'orphan' },
        { id: 't', parentId: 'a', name: 'T-shirts', slug: 't-shirts' },
      ]);
      const tree = JSON.parse(await service.categoriesJson());
      expect(tree.map((n: { id: string }) => n.id)).toEqual(['a', 'e']);
      expect(tree[0].children.map((n: { id: string }) => n.id)).toEqual(['s', 't']);
      expect(tree[0].children[0]).toEqual({
        id: 's',
        parentId: 'a',
        name: 'Shoes',
        slug: 'shoes',
        children: [],
      });
    });
  });

  describe('findVariantsBySkus', () => {
    it('reads each SKU once through the price cache and leaves unknown SKUs out', async () => {
      const { service, repo, cache } = build();
      repo.variantPrice.mockImplementation(async (sku) => (sku === 'GONE' ? undefined : aPrice(sku)));
      const found = await service.findVariantsBySkus(['TSHIRT-S', 'GONE', 'TSHIRT-S', 'TSHIRT-M']);
      expect(found.map((v) => v.sku)).toEqual(['TSHIRT-S', 'TSHIRT-M']);
      expect(found[0]).toEqual(aPrice('TSHIRT-S'));
      expect(repo.variantPrice).toHaveBeenCalledTimes(3);
      expect(cache.get.mock.calls.map(([key, ttl]) => [key, ttl])).toEqual([
        ['price:TSHIRT-S', CATALOG_TTL.price],
        ['price:GONE', CATALOG_TTL.price],
        ['price:TSHIRT-M', CATALOG_TTL.price],
      ]);
    });

    it('answers from L1 alone only when it holds every SKU (found or not), loading nothing', async () => {
      const { service, repo } = build();
      repo.variantPrice.mockImplementation(async (sku) => (sku === 'GONE' ? undefined : aPrice(sku)));
      expect(service.cachedVariantsBySkus(['TSHIRT-S'])).toBeUndefined();
      await service.findVariantsBySkus(['TSHIRT-S', 'GONE']);
      expect(service.cachedVariantsBySkus(['TSHIRT-S', 'GONE', 'TSHIRT-S'])).toEqual([aPrice('TSHIRT-S')]);
      expect(service.cachedVariantsBySkus(['TSHIRT-S', 'TSHIRT-M'])).toBeUndefined();
      expect(repo.variantPrice).toHaveBeenCalledTimes(2);
    });
  });

  describe('createCategory', () => {
    it('inserts with a slug from the name and invalidates the tree after the commit', async () => {
      const { service, repo, events } = build();
      repo.categoryExists.mockResolvedValue(true);
      repo.insertCategory.mockResolvedValue();
      const node = await service.createCategory({ name: 'Trail Shoes & Boots', parentId: CATEGORY_ID });
      expect(node).toMatchObject({
        parentId: CATEGORY_ID,
        name: 'Trail Shoes & Boots',
        slug: 'trail-shoes-boots',
        children: [],
      });
      expect(repo.insertCategory).toHaveBeenCalledWith({
        id: node.id,
        parentId: CATEGORY_ID,
        name: node.name,
        slug: node.slug,
      });
      expect(events).toEqual(['commit', 'afterWrite {"namespaces":["http"]}']);
    });

    it('refuses an unknown or malformed parent: nothing inserted, nothing invalidated', async () => {
      const { service, repo, events } = build();
      repo.categoryExists.mockResolvedValue(false);
      await expect(service.createCategory({ name: 'Shoes', parentId: CATEGORY_ID })).rejects.toMatchObject({
        code: 'CATEGORY_NOT_FOUND',
      });
      await expect(service.createCategory({ name: 'Shoes', parentId: 'apparel' })).rejects.toMatchObject({
        code: 'CATEGORY_NOT_FOUND',
      });
      expect(repo.categoryExists).toHaveBeenCalledTimes(1);
      expect(repo.insertCategory).not.toHaveBeenCalled();
      expect(events).toEqual([]);
    });
  });

  describe('createProduct', () => {
    const input = {
      name: 'Trail running shoes',
      categoryId: CHILD_ID,
      variants: [
        { sku: 'TRAIL-43', price: 12900, currency: 'EUR', stockOnHand: 20 },
        { sku: 'TRAIL-42', price: 12900, currency: 'EUR' },
        { sku: 'TRAIL-44', price: 13900, currency: 'EUR', stockOnHand: 5 },
      ],
    };

    it('writes the product at its cheapest variant, its variants and their stock, then its listing rows, in one transaction', async () => {
      const { service, repo, inventory, events, db } = build();
      repo.categoryExists.mockResolvedValue(true);
      repo.insertProduct.mockResolvedValue();
      repo.insertVariants.mockResolvedValue();
      repo.syncListing.mockResolvedValue();
      repo.findProduct.mockImplementation(async (id) => aProduct({ id }));

      const created = await service.createProduct(input);

      const row = repo.insertProduct.mock.calls[0][0];
      expect(row).toMatchObject({
        categoryId: CHILD_ID,
        name: 'Trail running shoes',
        description: null,
        brand: null,
        attributes: {},
        status: 'active',
        minPrice: 12900,
        currency: 'EUR',
      });
      expect(row.slug).toBe(`trail-running-shoes-${row.id.slice(-8)}`);
      expect(repo.insertVariants).toHaveBeenCalledWith(row.id, input.variants);
      expect(inventory.ensureStock.mock.calls).toEqual([
        ['TRAIL-43', 20],
        ['TRAIL-42', 0],
        ['TRAIL-44', 5],
      ]);
      expect(repo.syncListing).toHaveBeenCalledWith(row.id);
      expect(repo.syncListing.mock.invocationCallOrder[0]).toBeGreaterThan(
        inventory.ensureStock.mock.invocationCallOrder[2],
      );
      expect(db.transaction).toHaveBeenCalledTimes(1);
      expect(events).toEqual([
        'commit',
        `afterWrite {"keys":["product:${row.id}"],"namespaces":["list","price"]}`,
        `search refresh ${row.id}`,
      ]);
      expect(created.id).toBe(row.id);
    });

    it('refuses no variants, a SKU twice and an unknown category before writing anything', async () => {
      const { service, repo } = build();
      repo.categoryExists.mockResolvedValue(false);
      await expect(service.createProduct({ ...input, variants: [] })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(
        service.createProduct({ ...input, variants: [input.variants[0], input.variants[0]] }),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(service.createProduct(input)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        message: expect.stringContaining('categoryId'),
      });
      expect(repo.insertProduct).not.toHaveBeenCalled();
    });

    it('lets a taken SKU answer SKU_TAKEN and invalidates nothing', async () => {
      const { service, repo, events } = build();
      repo.insertProduct.mockResolvedValue();
      repo.insertVariants.mockRejectedValue(new DuplicateError('SKU', 'TRAIL-42'));
      await expect(service.createProduct({ ...input, categoryId: undefined })).rejects.toMatchObject({
        code: 'SKU_TAKEN',
      });
      expect(repo.syncListing).not.toHaveBeenCalled();
      expect(events).toEqual([]);
    });
  });

  describe('updateProduct', () => {
    it('locks the product, updates known variants, inserts new ones with stock, then re-prices and re-lists it', async () => {
      const { service, repo, inventory, events } = build();
      repo.lockProduct.mockResolvedValue(true);
      repo.updateProduct.mockResolvedValue();
      repo.updateVariantPrice.mockImplementation(async (_id, v) => v.sku === 'TSHIRT-S');
      repo.insertVariants.mockResolvedValue();
      repo.refreshMinPrice.mockResolvedValue();
      repo.syncListing.mockResolvedValue();
      repo.findProduct.mockResolvedValue(aProduct());
      const s = { sku: 'TSHIRT-S', price: 1899, currency: 'EUR' };
      const xl = { sku: 'TSHIRT-XL', price: 2299, currency: 'EUR', stockOnHand: 7 };

      await service.updateProduct(PRODUCT_ID, { name: 'Cotton tee', variants: [s, xl] });

      expect(repo.updateProduct).toHaveBeenCalledWith(PRODUCT_ID, { name: 'Cotton tee' });
      expect(repo.insertVariants).toHaveBeenCalledWith(PRODUCT_ID, [xl]);
      expect(repo.insertVariants).toHaveBeenCalledTimes(1);
      expect(inventory.ensureStock).toHaveBeenCalledWith('TSHIRT-XL', 7);
      expect(repo.refreshMinPrice).toHaveBeenCalledWith(PRODUCT_ID);
      expect(repo.lockProduct.mock.invocationCallOrder[0]).toBeLessThan(
        repo.updateProduct.mock.invocationCallOrder[0],
      );
      expect(repo.syncListing.mock.invocationCallOrder[0]).toBeGreaterThan(
        repo.refreshMinPrice.mock.invocationCallOrder[0],
      );
      expect(events).toEqual([
        'commit',
        `afterWrite {"keys":["product:${PRODUCT_ID}"],"namespaces":["list","price"]}`,
        `search refresh ${PRODUCT_ID}`,
      ]);
    });

    it('does not re-price a product whose variants were not touched', async () => {
      const { service, repo } = build();
      repo.lockProduct.mockResolvedValue(true);
      repo.updateProduct.mockResolvedValue();
      repo.syncListing.mockResolvedValue();
      repo.findProduct.mockResolvedValue(aProduct({ status: 'draft' }));
      await expect(service.updateProduct(PRODUCT_ID, { status: 'draft' })).resolves.toMatchObject({
        status: 'draft',
      });
      expect(repo.refreshMinPrice).not.toHaveBeenCalled();
      expect(repo.syncListing).toHaveBeenCalledWith(PRODUCT_ID);
    });

    it('answers PRODUCT_NOT_FOUND for an unknown or malformed id and writes nothing', async () => {
      const { service, repo, events } = build();
      repo.lockProduct.mockResolvedValue(false);
      await expect(service.updateProduct(PRODUCT_ID, { name: 'x' })).rejects.toMatchObject({
        code: 'PRODUCT_NOT_FOUND',
      });
      await expect(service.updateProduct('p-1', { name: 'x' })).rejects.toMatchObject({
        code: 'PRODUCT_NOT_FOUND',
      });
      expect(repo.lockProduct).toHaveBeenCalledTimes(1);
      expect(repo.updateProduct).not.toHaveBeenCalled();
      expect(events).toEqual([]);
    });
  });

  describe('archiveProduct', () => {
    it('archives and invalidates after the commit; an unknown product is 404 and invalidates nothing', async () => {
      const { service, repo, events } = build();
      repo.archive.mockResolvedValueOnce(true).mockResolvedValueOnce(false);
      await service.archiveProduct(PRODUCT_ID);
      expect(events).toEqual([
        'commit',
        `afterWrite {"keys":["product:${PRODUCT_ID}"],"namespaces":["list","price"]}`,
        `search refresh ${PRODUCT_ID}`,
      ]);
      await expect(service.archiveProduct(PRODUCT_ID)).rejects.toMatchObject({ code: 'PRODUCT_NOT_FOUND' });
      expect(events).toHaveLength(3);
    });
  });

  it('slugify folds accents, case and punctuation, and never answers an empty slug', () => {
    expect(slugify('  Crème Brûlée — 2 pack! ')).toBe('creme-brulee-2-pack');
    expect(slugify('!!!')).toBe('item');
  });
});
