import { connect } from 'node:net';
import { logDestination } from '../../src/infra/observability/logger.module';
import { Reflector } from '@nestjs/core';
import { CatalogService } from '../../src/catalog';
import { BulkUser, adminToken, bulkUsers } from '../support/auth';
import { JsonResponse, TestApp, http, startApp } from '../support/test-app';
import { createProduct } from '../catalog/catalog-support';
import { openFlashSale } from '../support/flash-sale';

/**
 * The access log as shipped (HTTP_LOG=true, LOG_LEVEL=info): the HTTP edge stays on, and every
 * request — answered at the edge or by the pipeline, a success or a refusal — gets exactly one
 * complete line with the fields pino-http's line had (request id, method, URL, status, response
 * time), written to the process's asynchronous pino destination. Health probes get none.
 */
describe('access log (HTTP_LOG=true): one line per request, at the edge too', () => {
  let a: TestApp;
  let admin: string;
  let users: BulkUser[];
  const lines: string[] = [];
  const spies: jest.SpyInstance[] = [];

  beforeAll(async () => {
    // Every line pino hands to the destination (one write per line; written nowhere else here).
    spies.push(
      jest
        .spyOn(logDestination() as unknown as { write: (s: string) => boolean }, 'write')
        .mockImplementation((s: string) => {
          lines.push(s);
          return true;
        }),
    );
    a = await startApp({ HTTP_LOG: 'true', LOG_LEVEL: 'info' });
    admin = await adminToken(a);
    users = await bulkUsers(a, 4, 'access-log');
  });
  afterAll(async () => {
    await a?.close();
    for (const s of spies) s.mockRestore();
  });

  let n = 0;
  /** A request with its own request id; returns the response and that id. */
  async function send(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown } = {},
  ): Promise<{ res: JsonResponse; id: string }> {
    const id = `access-log-${process.pid}-${++n}`;
    const res = await http(method, path, { ...opts, headers: { 'x-request-id': id } });
    return { res, id };
  }

  /** The access lines of one request id, parsed (each must be one complete JSON line). */
  const accessLines = (id: string) =>
    lines
      .filter((l) => l.includes(`"${id}"`))
      .map((l) => {
        expect(l.endsWith('\n')).toBe(true);
        expect(l.indexOf('\n')).toBe(l.length - 1);
        return JSON.parse(l) as Record<string, any>;
      })
      .filter((l) => ['request completed', 'request errored', 'request aborted'].includes(l.msg));

  it('keeps the edge on and logs each edge and pipeline answer once, with status and duration', async () => {
    const guard = jest.spyOn(Reflector.prototype, 'getAllAndOverride');
    const productJson = jest.spyOn(CatalogService.prototype, 'productJson');
    spies.push(guard, productJson);
    const { id: productId, sku } = await createProduct(a, admin, { name: 'Access log', stock: 100 });
    const saleId = await openFlashSale(a, admin, { sku, price: 500, quantity: 1 });

    const sent: { id: string; method: string; path: string; status: number }[] = [];
    const record = async (method: string, path: string, opts: { token?: string; body?: unknown } = {}) => {
      const { res, id } = await send(method, a.api(path), opts);
      sent.push({ id, method, path: `/api/v1${path}`, status: res.status });
      return res;
    };

    await record('GET', `/products/${productId}`); // L1 miss: the pipeline
    expect(productJson).toHaveBeenCalledTimes(1);
    const edgeBefore = guard.mock.calls.length;
    await record('GET', `/products/${productId}`); // the edge
    expect(productJson).toHaveBeenCalledTimes(1);
    await record('GET', '/cart', { token: users[0].token });
    await record('POST', '/cart/items', { token: users[0].token, body: { sku, quantity: 1 } });
    await record('POST', '/cart/items', { token: users[0].token, body: { sku: 'NO-SUCH', quantity: 1 } });
    await record('POST', '/cart/items', { token: users[0].token, body: { sku, quantity: 0 } });
    await record('POST', `/flash-sales/${saleId}/purchase`, { token: users[1].token });
    await record('POST', `/flash-sales/${saleId}/purchase`, { token: users[2].token }); // sold out
    // Nothing above went through the guard: the edge answered it all.
    expect(guard.mock.calls.length).toBe(edgeBefore);
    // The pipeline: a query string, a missing token, an unknown route.
    await record('GET', '/cart?via=pipeline', { token: users[3].token });
    await record('GET', '/cart');
    await record('GET', '/no-such-route');
    expect(guard.mock.calls.length).toBeGreaterThan(edgeBefore);
    await http('GET', `${a.url}/health`);

    expect(sent.map((s) => s.status)).toEqual([200, 200, 200, 200, 404, 400, 202, 409, 200, 401, 404]);
    // The destination is asynchronous only below pino: the line is handed over when the answer is sent.
    for (const s of sent) {
      const found = accessLines(s.id);
      expect(found).toHaveLength(1);
      const [line] = found;
      expect(line).toMatchObject({
        level: 30,
        requestId: s.id,
        req: { method: s.method, url: s.path },
        res: { statusCode: s.status },
        msg: 'request completed',
      });
      expect(typeof line.time).toBe('number');
      expect(typeof line.responseTime).toBe('number');
      expect(line.responseTime).toBeGreaterThanOrEqual(0);
      // The request id once (the mixin does not add a second one).
      expect(JSON.stringify(line).split('"requestId":').length).toBe(2);
    }
    expect(lines.some((l) => l.includes('"url":"/health'))).toBe(false);
  });

  it('logs a request whose client leaves before the answer once, as aborted', async () => {
    // Half a body, then the client goes away: the pipeline never answers, onResponse never runs.
    const id = `access-log-${process.pid}-aborted`;
    const port = Number(new URL(a.url).port);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
            `Content-Length: 200\r\nx-request-id: ${id}\r\n\r\n{"email":"a`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
    const deadline = Date.now() + 5000;
    while (accessLines(id).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300)); // and no second line after it
    const found = accessLines(id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      requestId: id,
      req: { method: 'POST', url: '/api/v1/auth/login' },
      err: { message: 'Aborted' },
      msg: 'request aborted',
    });
    expect(found[0].responseTime).toBeGreaterThanOrEqual(150);
  });
});
