import { adminToken, registerUser } from '../support/auth';
import { JsonResponse, TestApp, eventually, http, startApp } from '../support/test-app';
import { createCategory, createProduct, tag } from './catalog-support';

describe('catalog: admin writes, public reads, search and keyset pagination', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t);
  });
  afterAll(() => t.close());

  /** Listing reads come from the replica: poll until it shows what the primary has. */
  const listAll = async (query: string, limit = 7) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: JsonResponse = await http(
        'GET',
        t.api(`/products?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`),
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.nextCursor;
      if (++pages > 50) throw new Error('too many pages');
    } while (cursor);
    return ids;
  };

  it('creates a product with variants and initial stock (201, id), readable publicly and in inventory', async () => {
    const sku = `TEE-${tag()}`.toUpperCase();
    const res = await http('POST', t.api('/products'), {
      token: admin,
      body: {
        name: 'Linen shirt',
        description: 'Breathable linen',
        variants: [
          { sku, price: 4500, currency: 'EUR', stockOnHand: 12 },
          { sku: `${sku}-XL`, price: 4900, currency: 'EUR' },
        ],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'Linen shirt', status: 'active' });
    const detail = await http('GET', t.api(`/products/${res.body.id}`));
    expect(detail.status).toBe(200);
    expect(detail.headers.get('content-type')).toMatch(/^application\/json/);
    expect(detail.body.variants).toEqual([
      { sku, price: 4500, currency: 'EUR' },
      { sku: `${sku}-XL`, price: 4900, currency: 'EUR' },
    ]);
    const stock = await http('GET', t.api(`/inventory/${sku}`), { token: admin });
    expect(stock.body).toEqual({ sku, onHand: 12, reserved: 0, available: 12, lowStockThreshold: 5 });
    const dup = await http('POST', t.api('/products'), {
      token: admin,
      body: { name: 'Again', variants: [{ sku, price: 1, currency: 'EUR' }] },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('SKU_TAKEN');
  });

  it('lets only admins write: anonymous 401, customer 403; rejects a client-invented field', async () => {
    const body = { name: 'X', variants: [{ sku: `X-${tag()}`, price: 1, currency: 'EUR' }] };
    expect((await http('POST', t.api('/products'), { body })).status).toBe(401);
    const customer = await registerUser(t);
    expect((await http('POST', t.api('/products'), { body, token: customer.accessToken })).status).toBe(403);
    const bad = await http('POST', t.api('/products'), { body: { ...body, rating: 5 }, token: admin });
    expect(bad.status).toBe(400);
  });

  it('answers 404 for unknown, malformed and archived product ids', async () => {
    expect((await http('GET', t.api('/products/0190a5b0-0000-7000-8000-000000000000'))).body.code).toBe(
      'PRODUCT_NOT_FOUND',
    );
    expect((await http('GET', t.api('/products/not-an-id'))).status).toBe(404);
    const p = await createProduct(t, admin, { name: 'Soon archived' });
    expect((await http('GET', t.api(`/products/${p.id}`))).status).toBe(200);
    expect((await http('DELETE', t.api(`/products/${p.id}`), { token: admin })).status).toBe(204);
    expect((await http('GET', t.api(`/products/${p.id}`))).status).toBe(404);
    expect((await http('DELETE', t.api(`/products/${p.id}x`), { token: admin })).status).toBe(404);
  });

  it('serves the category tree and filters a category including its descendants', async () => {
    const root = await createCategory(t, admin, 'Root');
    const child = await createCategory(t, admin, 'Child', root.id);
    const grand = await createCategory(t, admin, 'Grand', child.id);
    const inGrand = await createProduct(t, admin, { name: 'Deep item', categoryId: grand.id });
    const inRoot = await createProduct(t, admin, { name: 'Top item', categoryId: root.id });
    const tree = await http('GET', t.api('/categories'));
    expect(tree.status).toBe(200);
    const r = tree.body.find((c: { id: string }) => c.id === root.id);
    expect(r.children[0]).toMatchObject({
      id: child.id,
      children: [expect.objectContaining({ id: grand.id })],
    });
    await eventually(async () => (await listAll(`categoryId=${root.id}`)).length === 2);
    expect(new Set(await listAll(`categoryId=${root.id}`))).toEqual(new Set([inGrand.id, inRoot.id]));
    expect(await listAll(`categoryId=${child.id}`)).toEqual([inGrand.id]);
  });

  it('pages every sort by keyset cursor without duplicates or gaps', async () => {
    const cat = await createCategory(t, admin, 'Paging');
    const created: string[] = [];
    for (let i = 0; i < 23; i++)
      created.push(
        (
          await createProduct(t, admin, {
            name: `Page item ${i}`,
            categoryId: cat.id,
            price: 100 + (i % 5) * 10,
          })
        ).id,
      );
    await eventually(async () => (await listAll(`categoryId=${cat.id}`, 100)).length === 23);
    for (const sort of ['newest', 'price_asc', 'price_desc']) {
      const ids = await listAll(`categoryId=${cat.id}&sort=${sort}`);
      expect(ids).toHaveLength(23);
      expect(new Set(ids)).toEqual(new Set(created));
    }
    const asc = await http('GET', t.api(`/products?categoryId=${cat.id}&sort=price_asc&limit=100`));
    const prices = asc.body.items.map((i: { price: number }) => i.price);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    const newest = await listAll(`categoryId=${cat.id}&sort=newest`);
    expect(newest).toEqual([...created].reverse());
    const ranged = await http(
      'GET',
      t.api(`/products?categoryId=${cat.id}&minPrice=120&maxPrice=130&limit=100`),
    );
    expect(ranged.body.items.length).toBeGreaterThan(0);
    for (const i of ranged.body.items) expect(i.price === 120 || i.price === 130).toBe(true);
  });

  it('searches name and description with FULLTEXT, neutralising boolean-mode operators', async () => {
    const word = `zq${tag()}`;
    const brand = `Brand${tag()}`;
    const hit = await createProduct(t, admin, {
      name: `Kettle ${word}`,
      description: 'stainless steel',
      brand,
    });
    const other = await createProduct(t, admin, {
      name: 'Teapot',
      description: `ceramic ${word}ware`,
      brand,
    });
    await createProduct(t, admin, { name: 'Unrelated', description: 'nothing here', brand });
    await eventually(async () => (await http('GET', t.api(`/products?q=${word}`))).body.items?.length === 2);
    const res = await http('GET', t.api(`/products?q=${encodeURIComponent(`${word} stainless`)}`));
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([hit.id]);
    const prefix = await http('GET', t.api(`/products?q=${word}&sort=newest`));
    expect(prefix.body.items.map((i: { id: string }) => i.id)).toEqual([other.id, hit.id]);
    for (const nasty of [
      `"${word}`,
      `${word}*)(`,
      `-${word}`,
      `+${word} ~<>@"`,
      `'; DROP TABLE products; --`,
    ])
      expect((await http('GET', t.api(`/products?q=${encodeURIComponent(nasty)}`))).status).toBe(200);
    expect(
      (await http('GET', t.api(`/products?q=${encodeURIComponent(`-${word}`)}`))).body.items,
    ).toHaveLength(2);
    expect((await http('GET', t.api('/products?q=ab'))).body).toEqual({ items: [], nextCursor: null });
    const byBrand = await http('GET', t.api(`/products?brand=${brand}&limit=100`));
    expect(byBrand.body.items).toHaveLength(3);
  });

  it('filters in-stock products through the inventory module', async () => {
    const brand = `Stock${tag()}`;
    const full = await createProduct(t, admin, { name: 'Has stock', brand, stock: 3 });
    await createProduct(t, admin, { name: 'Sold out', brand, stock: 0 });
    await eventually(
      async () => (await http('GET', t.api(`/products?brand=${brand}`))).body.items.length === 2,
    );
    const res = await http('GET', t.api(`/products?brand=${brand}&inStock=true`));
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual([full.id]);
  });

  it.each([
    ['limit=101', 'limit'],
    ['limit=0', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1e2', 'limit'],
    ['sort=cheapest', 'sort'],
    ['sort=relevance', 'sort'],
    ['minPrice=-1', 'minPrice'],
    ['minPrice=500&maxPrice=100', 'minPrice'],
    ['maxPrice=12abc', 'maxPrice'],
    ['categoryId=shoes', 'categoryId'],
    ['cursor=garbage', 'cursor'],
    ['inStock=maybe', 'inStock'],
    ['color=red', 'color'],
  ])('rejects bad query %s with 400 VALIDATION_FAILED', async (query, field) => {
    const res = await http('GET', t.api(`/products?${query}`));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.message).toContain(field);
  });

  it('rejects a cursor of another sort with 400', async () => {
    const brand = `Cur${tag()}`;
    await createProduct(t, admin, { name: 'c1', brand });
    await createProduct(t, admin, { name: 'c2', brand });
    const first = await eventually(async () => {
      const r = await http('GET', t.api(`/products?brand=${brand}&limit=1`));
      return r.body.nextCursor ? r : undefined;
    });
    const res = await http(
      'GET',
      t.api(`/products?brand=${brand}&limit=1&sort=price_asc&cursor=${first.body.nextCursor}`),
    );
    expect(res.status).toBe(400);
  });

  it('updates a product (PATCH): fields, price of a variant, new variant', async () => {
    const p = await createProduct(t, admin, { name: 'Patch me', price: 1000 });
    const newSku = `NEW-${tag()}`.toUpperCase();
    const res = await http('PATCH', t.api(`/products/${p.id}`), {
      token: admin,
      body: {
        name: 'Patched',
        brand: 'Acme',
        variants: [
          { sku: p.sku, price: 800, currency: 'EUR' },
          { sku: newSku, price: 1200, currency: 'EUR', stockOnHand: 4 },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Patched', brand: 'Acme' });
    expect(res.body.variants).toEqual([
      { sku: p.sku, price: 800, currency: 'EUR' },
      { sku: newSku, price: 1200, currency: 'EUR' },
    ]);
    expect((await http('GET', t.api(`/products/${p.id}`))).body.name).toBe('Patched');
    expect(
      (
        await http('PATCH', t.api('/products/0190a5b0-0000-7000-8000-000000000000'), {
          token: admin,
          body: { name: 'x' },
        })
      ).status,
    ).toBe(404);
  });
});
