import { request } from 'node:http';
import { CatalogService } from '../../src/catalog';
import { CatalogSearch } from '../../src/catalog/testing';
import { FlashSaleService } from '../../src/flash-sale';
import { MetricsService } from '../../src/infra/observability/metrics.service';
import { Reflector } from '@nestjs/core';
import { BulkUser, adminToken, bulkUsers } from '../support/auth';
import { signJwt } from '../support/jwt';
import { TestApp, comparableHeaders, eventually, http, startApp } from '../support/test-app';
import { createProduct } from '../catalog/catalog-support';
import { openFlashSale } from '../support/flash-sale';

/**
 * The HTTP edge (src/infra/http/edge-routes.ts) answers a few hot routes in front of Fastify and
 * Nest. These tests hold it to the pipeline: for the same request, the same status, body and
 * headers; and every request it must not take (query string, Origin, a body, no valid token, an
 * L1 miss) goes down the pipeline. A query string is the way to make the pipeline answer.
 */

const withoutRequestId = (body: Record<string, unknown>) => {
  const { requestId, ...rest } = body;
  expect(typeof requestId).toBe('string');
  return rest;
};

/** A request with the target sent exactly as given (fetch would strip a fragment). */
function rawRequest(
  t: TestApp,
  method: string,
  target: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: target, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function metricCount(t: TestApp, route: string, status: number): Promise<number> {
  const text = await t.app.get(MetricsService).registry.metrics();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('shop_http_request_duration_seconds_count{') &&
        l.includes(`route="${route}"`) &&
        l.includes(`status="${status}"`) &&
        l.includes('method="'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('HTTP edge: hot routes answered in front of the pipeline, identically', () => {
  let a: TestApp;
  let admin: string;
  let users: BulkUser[];
  const spies: jest.SpyInstance[] = [];

  beforeAll(async () => {
    a = await startApp();
    admin = await adminToken(a);
    users = await bulkUsers(a, 8, 'edge');
  });
  afterEach(() => {
    for (const s of spies.splice(0)) s.mockRestore();
  });
  afterAll(async () => {
    await a.close();
  });

  it('serves a product page in L1 at the edge with the pipeline’s status, body and headers', async () => {
    const p = await createProduct(a, admin, { name: 'Edge product' });
    const url = a.api(`/products/${p.id}`);
    const pipeline = jest.spyOn(CatalogService.prototype, 'productJson');
    spies.push(pipeline);

    const cold = await http('GET', url); // L1 miss: the edge declines, the controller loads it
    expect(cold.status).toBe(200);
    expect(pipeline).toHaveBeenCalledTimes(1);

    const before = await metricCount(a, '/api/v1/products/:id', 200);
    const edge = await http('GET', url, { headers: { 'x-request-id': 'edge-test-1' } });
    expect(pipeline).toHaveBeenCalledTimes(1); // answered without the controller
    const viaPipeline = await http('GET', `${url}?via=pipeline`, {
      headers: { 'x-request-id': 'edge-test-2' },
    });
    expect(pipeline).toHaveBeenCalledTimes(2);

    expect(edge.status).toBe(200);
    expect(edge.body).toEqual(viaPipeline.body);
    expect(edge.body).toEqual(cold.body);
    expect(comparableHeaders(edge)).toEqual(comparableHeaders(viaPipeline));
    expect(edge.headers.get('x-request-id')).toBe('edge-test-1');
    expect(edge.headers.get('content-security-policy')).toContain("default-src 'none'");
    // Counted under the same route label as the pipeline's answers.
    expect(await metricCount(a, '/api/v1/products/:id', 200)).toBe(before + 2);
  });

  it('leaves CORS requests, unknown ids and malformed paths to the pipeline', async () => {
    const p = await createProduct(a, admin, { name: 'Edge CORS product' });
    const url = a.api(`/products/${p.id}`);
    await http('GET', url); // now in L1
    const pipeline = jest.spyOn(CatalogService.prototype, 'productJson');
    spies.push(pipeline);

    const cors = await http('GET', url, { headers: { origin: 'https://shop.example' } });
    expect(cors.status).toBe(200);
    expect(pipeline).toHaveBeenCalledTimes(1);
    expect(cors.headers.get('vary')).toContain('Origin');

    const missing = await http('GET', a.api('/products/0190a5b0-0000-7000-8000-00000000beef'));
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('PRODUCT_NOT_FOUND');
    expect(typeof missing.body.requestId).toBe('string');

    const encoded = await http('GET', a.api(`/products/${encodeURIComponent('../users/me')}`));
    expect(encoded.status).toBe(404);
    expect(typeof encoded.body.requestId).toBe('string');
  });

  it('serves a first listing page in L1 at the edge for a plain query, and a fresh one after a write', async () => {
    const brand = `EdgeBrand${Date.now()}`;
    await createProduct(a, admin, { name: 'Edge listed one', brand });
    const url = a.api(`/products?brand=${brand}&limit=5&sort=newest`);
    const pipeline = jest.spyOn(CatalogService.prototype, 'listJson');
    spies.push(pipeline);

    const cold = await http('GET', url); // L1 miss: the edge declines, the controller loads it
    expect(cold.status).toBe(200);
    expect(cold.body.items.map((p: { name: string }) => p.name)).toEqual(['Edge listed one']);
    expect(pipeline).toHaveBeenCalledTimes(1);

    const before = await metricCount(a, '/api/v1/products', 200);
    // The same query spelled differently is the same page (one cache entry).
    const edge = await http('GET', a.api(`/products?sort=newest&limit=5&brand=${brand}`), {
      headers: { 'x-request-id': 'edge-list-1' },
    });
    expect(pipeline).toHaveBeenCalledTimes(1); // answered without the controller
    // `limit=0005` is not plain for the edge; the pipeline reads it as 5.
    const viaPipeline = await http('GET', a.api(`/products?brand=${brand}&limit=0005&sort=newest`));
    expect(pipeline).toHaveBeenCalledTimes(2);
    expect(edge.status).toBe(200);
    expect(edge.body).toEqual(viaPipeline.body);
    expect(edge.body).toEqual(cold.body);
    expect(comparableHeaders(edge)).toEqual(comparableHeaders(viaPipeline));
    expect(edge.headers.get('x-request-id')).toBe('edge-list-1');
    expect(await metricCount(a, '/api/v1/products', 200)).toBe(before + 2);

    // A catalog write drops the page from L1: the next request is the pipeline's, and fresh.
    await createProduct(a, admin, { name: 'Edge listed two', brand });
    const fresh = await http('GET', url);
    expect(pipeline).toHaveBeenCalledTimes(3);
    expect(fresh.body.items.map((p: { name: string }) => p.name)).toEqual([
      'Edge listed two',
      'Edge listed one',
    ]);

    // Queries it does not read exactly as the pipeline would are the pipeline's, refusals included.
    const refused = await http('GET', a.api(`/products?brand=${brand}&limit=0`));
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('VALIDATION_FAILED');
    expect(typeof refused.body.requestId).toBe('string');
    const unknown = await http('GET', a.api(`/products?brand=${brand}&color=red`));
    expect(unknown.status).toBe(400);
    const twice = await http('GET', a.api(`/products?brand=${brand}&brand=${brand}`));
    expect(twice.status).toBe(400);
    const calls = pipeline.mock.calls.length;
    await http('GET', a.api(`/products?brand=${brand}&limit=5&sort=newest&inStock=true`));
    expect(pipeline).toHaveBeenCalledTimes(calls + 1); // not cached: always the pipeline's
  });

  it('answers a search at the edge from the search index exactly as the pipeline does', async () => {
    const word = `edgesearch${Date.now()}`;
    await eventually(() => Promise.resolve(a.app.get(CatalogSearch).ready));
    await createProduct(a, admin, { name: `${word} lamp`, price: 1200 });
    await createProduct(a, admin, { name: `${word} lampion`, price: 900 });
    const pipeline = jest.spyOn(CatalogService.prototype, 'listJson');
    spies.push(pipeline);
    const before = await metricCount(a, '/api/v1/products', 200);

    const edge = await http('GET', a.api(`/products?q=${word}+lam&sort=price_asc&limit=5`), {
      headers: { 'x-request-id': 'edge-search-1' },
    });
    expect(pipeline).not.toHaveBeenCalled(); // never asked before, answered without the controller
    expect(edge.status).toBe(200);
    expect(edge.body.items.map((p: { name: string }) => p.name)).toEqual([`${word} lampion`, `${word} lamp`]);
    const viaPipeline = await http('GET', a.api(`/products?q=${word}+lam&sort=price_asc&limit=0005`));
    expect(pipeline).toHaveBeenCalledTimes(1);
    expect(edge.body).toEqual(viaPipeline.body);
    expect(comparableHeaders(edge)).toEqual(comparableHeaders(viaPipeline));
    expect(edge.headers.get('x-request-id')).toBe('edge-search-1');
    expect(await metricCount(a, '/api/v1/products', 200)).toBe(before + 2);

    // A write shows in the next search at once (the writer's index is updated before it answers).
    await createProduct(a, admin, { name: `${word} lamp shade`, price: 100 });
    const fresh = await http('GET', a.api(`/products?q=${word}+lam&sort=price_asc&limit=5`));
    expect(pipeline).toHaveBeenCalledTimes(1);
    expect(fresh.body.items[0].name).toBe(`${word} lamp shade`);
  });

  it('answers flash purchases at the edge exactly as the controller does', async () => {
    const sku = (await createProduct(a, admin, { name: 'Edge flash', stock: 10 })).sku;
    const saleId = await openFlashSale(a, admin, { sku, price: 500, quantity: 3 });
    const path = a.api(`/flash-sales/${saleId}/purchase`);
    const buy = (u: BulkUser, query = '') => http('POST', `${path}${query}`, { token: u.token });
    const viaController = jest.spyOn(FlashSaleService.prototype, 'purchase');
    spies.push(viaController);

    // A Content-Type without a body is Fastify's to judge (an empty JSON body is a 400): the
    // edge leaves it alone, and no unit is taken.
    const typed = await http('POST', path, {
      token: users[0].token,
      headers: { 'content-type': 'application/json' },
    });
    expect(typed.status).toBe(400);
    expect(typeof typed.body.requestId).toBe('string');

    // Reserved at the edge and through the pipeline: same shape.
    const edgeWin = await buy(users[0]);
    const pipelineWin = await buy(users[1], '?via=pipeline');
    expect(edgeWin.status).toBe(202);
    expect(pipelineWin.status).toBe(202);
    expect(Object.keys(edgeWin.body)).toEqual(['reservationId']);
    expect(Object.keys(pipelineWin.body)).toEqual(['reservationId']);
    expect(comparableHeaders(edgeWin)).toEqual(comparableHeaders(pipelineWin));

    // Refusals carry the contract's error shape either way.
    const edgeAgain = await buy(users[0]);
    const pipelineAgain = await buy(users[0], '?via=pipeline');
    expect(edgeAgain.status).toBe(409);
    expect(withoutRequestId(edgeAgain.body)).toEqual(withoutRequestId(pipelineAgain.body));
    expect(edgeAgain.body.code).toBe('ALREADY_PURCHASED');
    expect(comparableHeaders(edgeAgain)).toEqual(comparableHeaders(pipelineAgain));

    // The last unit goes; then the local sold-out flag answers at the edge, with no Redis call.
    expect((await buy(users[2])).status).toBe(202);
    const calls = viaController.mock.calls.length;
    const edgeSoldOut = await buy(users[3]);
    expect(viaController.mock.calls.length).toBe(calls);
    const pipelineSoldOut = await buy(users[4], '?via=pipeline');
    expect(edgeSoldOut.status).toBe(409);
    expect(edgeSoldOut.body.code).toBe('SOLD_OUT');
    expect(withoutRequestId(edgeSoldOut.body)).toEqual(withoutRequestId(pipelineSoldOut.body));
    expect(comparableHeaders(edgeSoldOut)).toEqual(comparableHeaders(pipelineSoldOut));
  });

  it('leaves unauthenticated purchases and purchases with a body to the pipeline', async () => {
    const path = a.api('/flash-sales/0190a5b0-0000-7000-8000-00000000f00d/purchase');
    const none = await http('POST', path);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('UNAUTHENTICATED');
    const forged = signJwt(
      { alg: 'HS256', typ: 'JWT' },
      { sub: users[5].id, role: 'customer' },
      'wrong-secret',
    );
    const bad = await http('POST', path, { token: forged });
    expect(bad.status).toBe(401);
    expect(typeof bad.body.requestId).toBe('string');
    // A body goes through Fastify's parser (a broken one is a 400, not a purchase).
    const broken = await http('POST', path, { token: users[5].token, raw: '{"oops' });
    expect(broken.status).toBe(400);
    // A fragment in the request target: Fastify routes the path before '#', so the edge declines.
    const fragment = await rawRequest(
      a,
      'POST',
      `${new URL(path).pathname.replace('/purchase', '#/purchase')}`,
      {
        authorization: `Bearer ${users[6].token}`,
      },
    );
    expect(fragment.status).toBe(404);
    expect(fragment.body.message).toMatch(/^Cannot POST /); // the router's answer, not the service's
    // A sale that does not exist: 404 from the edge, in the contract shape.
    const unknown = await http('POST', path, { token: users[6].token });
    expect(unknown.status).toBe(404);
    expect(typeof unknown.body.requestId).toBe('string');
  });

  it('reads and adds to the cart at the edge exactly as the controller does', async () => {
    const { sku } = await createProduct(a, admin, { name: 'Edge cart', price: 1250, stock: 100 });
    // The pipeline's guard reads its route metadata through the Reflector; the edge never does.
    const guard = jest.spyOn(Reflector.prototype, 'getAllAndOverride');
    spies.push(guard);
    const calls = () => guard.mock.calls.length;
    const [u, v] = [users[6], users[7]];
    const add = (user: BulkUser, body: unknown, query = '', headers: Record<string, string> = {}) =>
      http('POST', a.api(`/cart/items${query}`), { token: user.token, body, headers });
    const read = (user: BulkUser, query = '') => http('GET', a.api(`/cart${query}`), { token: user.token });

    // Empty carts, then one unit added, each at the edge (no guard) and through the pipeline.
    const emptyEdge = await read(u);
    expect(calls()).toBe(0);
    const emptyPipeline = await read(v, '?via=pipeline');
    const afterPipeline = calls();
    expect(afterPipeline).toBeGreaterThan(0);
    expect(emptyEdge.status).toBe(200);
    expect(emptyEdge.body).toEqual(emptyPipeline.body);
    expect(comparableHeaders(emptyEdge)).toEqual(comparableHeaders(emptyPipeline));

    const before = await metricCount(a, '/api/v1/cart/items', 200);
    const addedEdge = await add(u, { sku, quantity: 2 });
    expect(calls()).toBe(afterPipeline);
    const addedPipeline = await add(v, { sku, quantity: 2 }, '?via=pipeline');
    expect(calls()).toBeGreaterThan(afterPipeline);
    expect(addedEdge.status).toBe(200);
    expect(addedEdge.body).toEqual(addedPipeline.body);
    expect(addedEdge.body.items[0]).toMatchObject({ sku, quantity: 2, unitPrice: 1250, lineTotal: 2500 });
    expect(comparableHeaders(addedEdge)).toEqual(comparableHeaders(addedPipeline));
    expect(await metricCount(a, '/api/v1/cart/items', 200)).toBe(before + 2);
    // The charset spelled out is JSON too; the cart as read back is the same either way.
    const charset = await add(u, { sku, quantity: 1 }, '', {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(charset.status).toBe(200);
    expect(charset.body.totalQuantity).toBe(3);
    expect((await read(u)).body).toEqual((await read(u, '?via=pipeline')).body);

    // Refusals: the same status and error body from the edge and from the pipeline.
    const bad: { body?: unknown; raw?: string }[] = [
      { body: { sku, quantity: 0 } },
      { body: { sku, quantity: '1' } },
      { body: { sku: 'not a sku!', quantity: 1 } },
      { body: { sku, quantity: 1, price: 1 } },
      { body: { sku } },
      { body: [] },
      { body: null },
      { raw: '{"sku":' },
      { raw: '' },
      { raw: '{"__proto__":{"x":1},"sku":"A","quantity":1}' },
      { body: { sku: 'NO-SUCH-SKU', quantity: 1 } },
      { body: { sku, quantity: 1_000_000_000 } },
    ];
    for (const b of bad) {
      const opts = { token: u.token, ...(b.raw !== undefined ? { raw: b.raw } : { body: b.body }) };
      const n = calls();
      const edge = await http('POST', a.api('/cart/items'), opts);
      expect(calls()).toBe(n); // answered at the edge
      const pipeline = await http('POST', a.api('/cart/items?via=pipeline'), opts);
      expect([edge.status, withoutRequestId(edge.body)]).toEqual([
        pipeline.status,
        withoutRequestId(pipeline.body),
      ]);
      expect(edge.status).toBeGreaterThanOrEqual(400);
      expect(comparableHeaders(edge)).toEqual(comparableHeaders(pipeline));
    }

    // No or a bad token: the pipeline's 401 (before the body is even looked at).
    const anon = await http('POST', a.api('/cart/items'), { body: { sku, quantity: 1 } });
    expect(anon.status).toBe(401);
    expect((await http('GET', a.api('/cart'))).status).toBe(401);
  });
});
