import { status } from '@grpc/grpc-js';
import Bull from 'bull';
import { requestContext } from '../../src/common/context/request-context';
import { QUEUES } from '../../src/infra/queue/queues';
import { WorkerRegistry, traced } from '../../src/infra/queue/worker-registry.service';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { healthClient, orderServiceClient, rpcError, unary } from '../support/grpc';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { openFlashSale } from '../support/flash-sale';
import { createProduct, uniqueSku } from '../orders/builders';
import { Scrape, parseProm } from './prom-text';

/**
 * Issue 8, observability: one instance serves a request of each kind (HTTP, gRPC, a job, a
 * flash-sale purchase), then /metrics is scraped as Prometheus would and every family the
 * dashboard in deploy/grafana/ queries must be there with samples that match what was done.
 */

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'paused', 'completed', 'failed'];

async function scrape(t: TestApp): Promise<Scrape> {
  const res = await http('GET', `${t.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseProm(String(res.body));
}

const sumOf = (s: Scrape, name: string, labels: Record<string, string> = {}) =>
  s.find(name, labels).reduce((a, x) => a + x.value, 0);

describe('observability: /metrics exposes every family with samples of what the instance did', () => {
  let t: TestApp;
  let admin: string;
  let customer: RegisteredUser;
  let grpcClient: ReturnType<typeof orderServiceClient>;

  beforeAll(async () => {
    t = await startApp();
    grpcClient = orderServiceClient(t.grpcUrl);
    // The admin's login is audited through a job on the audit queue.
    [admin, customer] = await Promise.all([adminToken(t), registerUser(t)]);
  });
  afterAll(async () => {
    grpcClient?.close();
    await t?.close();
  });

  it('HTTP: a histogram per route pattern, method and status (never the raw URL)', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await http('GET', t.api('/categories'))).status).toBe(200);
    expect((await http('GET', t.api('/categories'))).status).toBe(200);
    expect((await http('GET', t.api(`/products/${missing}`))).status).toBe(404);
    const m = await scrape(t);
    expect(m.types.get('shop_http_request_duration_seconds')).toBe('histogram');
    const route = { method: 'GET', route: '/api/v1/categories', status: '200' };
    expect(m.value('shop_http_request_duration_seconds_count', route)).toBeGreaterThanOrEqual(2);
    expect(m.value('shop_http_request_duration_seconds_sum', route)).toBeGreaterThan(0);
    expect(m.value('shop_http_request_duration_seconds_bucket', { ...route, le: '+Inf' })).toBe(
      m.value('shop_http_request_duration_seconds_count', route),
    );
    expect(
      m.value('shop_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/v1/products/:id',
        status: '404',
      }),
    ).toBeGreaterThanOrEqual(1);
    const routes = m.find('shop_http_request_duration_seconds_count').map((s) => s.labels.route);
    expect(routes.filter((r) => r.includes(missing))).toEqual([]);
  });

  it('gRPC: a histogram per service, method, status code and call type (unary, server stream, health)', async () => {
    await unary(grpcClient, 'ListOrders', { page_size: 1 }, customer.accessToken);
    const denied = await rpcError(unary(grpcClient, 'ListOrders', {}));
    expect(denied.code).toBe(status.UNAUTHENTICATED);
    const streamErr = await new Promise<{ code: number }>((resolve) => {
      const call = grpcClient.WatchOrder({ id: '00000000-0000-4000-8000-000000000000' });
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(streamErr.code).toBe(status.UNAUTHENTICATED);
    const health = healthClient(t.grpcUrl);
    await new Promise((resolve, reject) =>
      health.Check({ service: '' }, (err: Error | null, r: unknown) => (err ? reject(err) : resolve(r))),
    );
    health.close();

    // The status is recorded as it is sent; the client may see it a moment earlier.
    const m = await eventually(async () => {
      const s = await scrape(t);
      return s.find('shop_grpc_request_duration_seconds_count', { method: 'Check' }).length ? s : undefined;
    });
    expect(m.types.get('shop_grpc_request_duration_seconds')).toBe('histogram');
    const svc = 'shop.orders.v1.OrderService';
    const count = (method: string, code: string, type: string, service = svc) =>
      m.value('shop_grpc_request_duration_seconds_count', { service, method, code, type });
    expect(count('ListOrders', 'OK', 'unary')).toBeGreaterThanOrEqual(1);
    expect(count('ListOrders', 'UNAUTHENTICATED', 'unary')).toBeGreaterThanOrEqual(1);
    expect(count('WatchOrder', 'UNAUTHENTICATED', 'server_stream')).toBeGreaterThanOrEqual(1);
    expect(count('Check', 'OK', 'unary', 'grpc.health.v1.Health')).toBeGreaterThanOrEqual(1);
  });

  it('queues: depth per state for every queue in QUEUES, read on scrape, and jobs processed per outcome', async () => {
    // The admin's login audit (beforeAll) is a job on the audit queue, consumed by this instance.
    const m = await eventually(async () => {
      const s = await scrape(t);
      return sumOf(s, 'shop_queue_jobs_processed_total', { queue: QUEUES.audit, outcome: 'completed' }) >= 1
        ? s
        : undefined;
    });
    expect(m.types.get('shop_queue_jobs')).toBe('gauge');
    expect(m.types.get('shop_queue_jobs_processed_total')).toBe('counter');
    for (const queue of Object.values(QUEUES)) {
      expect({ queue, up: m.value('shop_queue_up', { queue }) }).toEqual({ queue, up: 1 });
      for (const state of QUEUE_STATES) {
        const v = m.value('shop_queue_jobs', { queue, state });
        expect({ queue, state, ok: Number.isInteger(v) && v >= 0 }).toEqual({ queue, state, ok: true });
      }
    }
    // Completed audit jobs are retained (removeOnComplete keeps the last 1000), so Redis counts them.
    expect(m.value('shop_queue_jobs', { queue: QUEUES.audit, state: 'completed' })).toBeGreaterThanOrEqual(1);
  });

  it('jobs run in the request context of the request that enqueued them (the id pino writes on their lines)', async () => {
    const queue = new Bull<{ n: number }>(`obs-probe-${Date.now().toString(36)}`, t.config.redis.url, {
      prefix: `${t.config.redis.prefix}:bull`,
    });
    try {
      const seen: (string | undefined)[] = [];
      t.app.get(WorkerRegistry).process(queue, async () => void seen.push(requestContext.requestId()));
      await requestContext.run({ requestId: 'req-observability-1' }, () => queue.add(traced({ n: 1 })));
      await queue.add({ n: 2 }); // produced outside any request
      await eventually(async () => seen.length === 2);
      expect(seen).toEqual(['req-observability-1', expect.stringMatching(/^job-obs-probe-[a-z0-9]+-\d+$/)]);
      const m = await scrape(t);
      expect(m.value('shop_queue_jobs_processed_total', { queue: queue.name, outcome: 'completed' })).toBe(2);
    } finally {
      await queue.close();
    }
  });

  it('flash sale: stream lag of the consumer group per open sale, back to 0 once the purchase is persisted', async () => {
    const sku = uniqueSku('OBS');
    await createProduct(t, admin, [{ sku, price: 1000, stockOnHand: 5 }]);
    const saleId = await openFlashSale(t, admin, { sku, price: 500, quantity: 3 });
    // The consumer starts reading a new sale's stream when it hears of it (pub/sub, or its refresh).
    await eventually(
      async () => (await scrape(t)).find('shop_flash_sale_stream_lag', { sale: saleId }).length > 0,
    );
    const bought = await http('POST', t.api(`/flash-sales/${saleId}/purchase`), {
      token: customer.accessToken,
    });
    expect(bought.status).toBe(202);
    const m = await eventually(async () => {
      const s = await scrape(t);
      return s.value('shop_flash_sale_orders_persisted_total') >= 1 &&
        s.value('shop_flash_sale_stream_lag', { sale: saleId }) === 0
        ? s
        : undefined;
    }, 20000);
    expect(m.types.get('shop_flash_sale_stream_lag')).toBe('gauge');
  });

  it('cache: hits and misses per tier (the ratio the dashboard plots)', async () => {
    // A fresh L1 entry answers the second read; the first read missed L1 (see the HTTP test above).
    await http('GET', t.api('/categories'));
    await http('GET', t.api('/categories'));
    const m = await scrape(t);
    expect(m.value('shop_cache_misses_total', { tier: 'l1' })).toBeGreaterThanOrEqual(1);
    expect(m.value('shop_cache_hits_total', { tier: 'l1' })).toBeGreaterThanOrEqual(1);
    // L1 misses go on to L2 (Redis): that tier has samples too.
    expect(
      sumOf(m, 'shop_cache_hits_total', { tier: 'l2' }) + sumOf(m, 'shop_cache_misses_total', { tier: 'l2' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('database: pool usage of the primary and replica-1, replica lag and rotation state', async () => {
    const m = await scrape(t);
    for (const pool of ['primary', 'replica-1']) {
      const inUse = m.value('shop_db_pool_connections', { pool, state: 'in_use' });
      const idle = m.value('shop_db_pool_connections', { pool, state: 'idle' });
      expect({ pool, inUse: inUse >= 0, idle: idle >= 0, open: inUse + idle >= 1 }).toEqual({
        pool,
        inUse: true,
        idle: true,
        open: true,
      });
      expect(m.value('shop_db_pool_max_connections', { pool })).toBe(t.config.db.poolSize);
      expect(m.value('shop_db_pool_waiting_requests', { pool })).toBeGreaterThanOrEqual(0);
    }
    const lag = m.value('shop_db_replica_lag_seconds', { replica: 'replica-1' });
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThanOrEqual(t.config.db.replicaMaxLagSeconds);
    expect(m.value('shop_db_replica_up', { replica: 'replica-1' })).toBe(1);
  });
});

describe('observability: /metrics with Redis unreachable', () => {
  let t: TestApp;
  let proxy: FaultProxy;
  beforeAll(async () => {
    const u = new URL(process.env.REDIS_URL!);
    proxy = new FaultProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    u.port = String(proxy.port);
    t = await startApp({ REDIS_URL: u.toString() });
  });
  afterAll(async () => {
    // Drop the black-holed connections so every client reconnects, then let the app close normally.
    await proxy.set('reset');
    await proxy.set('pass');
    await t?.close();
    await proxy.stop();
  });

  it('still answers 200 with every family when Redis accepts connections but never replies; queues report down', async () => {
    const before = await scrape(t);
    expect(before.value('shop_queue_up', { queue: QUEUES.audit })).toBe(1);
    await proxy.set('blackhole');
    const m = await scrape(t);
    for (const queue of Object.values(QUEUES)) {
      expect({ queue, up: m.value('shop_queue_up', { queue }) }).toEqual({ queue, up: 0 });
      expect(m.find('shop_queue_jobs', { queue })).toEqual([]);
    }
    for (const family of [
      'shop_http_request_duration_seconds',
      'shop_db_pool_connections',
      'shop_queue_jobs',
    ])
      expect({ family, type: m.types.get(family) }).toEqual({ family, type: expect.any(String) });
    expect(m.find('shop_db_pool_connections', { pool: 'primary' }).length).toBe(2);
    // A second scrape while the first requests still hang: answered the same way.
    const again = await scrape(t);
    expect(again.value('shop_queue_up', { queue: QUEUES.audit })).toBe(0);
  });
});
