import * as grpc from '@grpc/grpc-js';
import { Pool, createPool } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Cluster, startCluster } from '../../scripts/cluster/cluster';
import { infraConfig } from '../../scripts/infra/local-infra';
import { newId } from '../../src/common/ids';
import { loadConfig } from '../../src/infra/config/app-config';
import { createProduct, placeOrder, stockOf, uniqueSku } from '../orders/builders';
import { adminToken } from '../support/auth';
import { bearer, healthClient, orderServiceClient } from '../support/grpc';
import { signJwt } from '../support/jwt';
import { TestApp, eventually, http } from '../support/test-app';
import { openFlashSale } from '../support/flash-sale';
import { LoadGenerator, readAccessLog } from './load';

/**
 * The local cluster of `npm run up:cluster` (scripts/cluster/): 2 api instances and 1 worker as
 * separate processes, a real nginx in front (deploy/nginx/nginx.conf.template), the run's MySQL
 * primary/replica and Redis. Every request below goes through nginx, as a client's would; the
 * nginx access log (X-Request-Id → upstream tried) says which instance served each one.
 * The last test kills an instance, so it runs last.
 */

const config = loadConfig({ ...process.env });
const tag = randomBytes(3).toString('hex');

interface Buyer {
  id: string;
  token: string;
}

describe('cluster: 2 api instances + 1 worker behind nginx', () => {
  let cluster: Cluster;
  /** The balancer seen as one app, for the shared builders and helpers. */
  let lb: TestApp;
  let admin: string;
  let db: Pool;
  let apiAddrs: string[];
  let grpcAddrs: string[];

  const access = () => readAccessLog(cluster.nginx.paths.accessLog);
  const servedBy = (rids: Set<string>) =>
    new Set(access().flatMap((l) => (rids.has(l.rid) ? [l.upstreams[l.upstreams.length - 1]] : [])));

  /** Customers inserted in one statement (argon2 through the API would dominate) with minted tokens. */
  async function buyers(n: number): Promise<Buyer[]> {
    const now = new Date();
    const rows = Array.from({ length: n }, (_, i) => ({
      id: newId(),
      email: `cl-${tag}-${newId()}-${i}@test.local`,
    }));
    await db.query(
      'INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) VALUES ?',
      [rows.map((u) => [u.id, u.email, 'not-a-hash', 'Cluster Buyer', 'customer', now, now])],
    );
    const iat = Math.floor(Date.now() / 1000);
    return rows.map((u) => ({
      id: u.id,
      token: signJwt(
        { alg: 'HS256', typ: 'JWT' },
        { sub: u.id, role: 'customer', iat, exp: iat + 3600 },
        config.auth.jwtSecret,
      ),
    }));
  }

  beforeAll(async () => {
    cluster = await startCluster({
      instances: 2,
      dir: path.join(infraConfig().localDir, `cluster-test-${process.pid}-${tag}`),
      env: {
        ...process.env,
        // one Redis namespace for the instances of this cluster (queues and streams included)
        REDIS_PREFIX: `${process.env.REDIS_PREFIX ?? 'test'}-cl${tag}`,
        TRUST_PROXY: 'true',
        SHUTDOWN_TIMEOUT_MS: '5000',
      },
      readyTimeoutMs: 90_000,
    });
    const url = cluster.httpUrl;
    lb = {
      url,
      config,
      grpcUrl: cluster.grpcAddress,
      api: (p: string) => `${url}/api/v1${p.startsWith('/') ? p : `/${p}`}`,
    } as TestApp;
    apiAddrs = cluster.apis.map((a) => `127.0.0.1:${a.port}`);
    grpcAddrs = cluster.apis.map((a) => `127.0.0.1:${a.grpcPort}`);
    const { host, port, user, password, database } = config.db.primary;
    db = createPool({ host, port, user, password, database, connectionLimit: 4 });
    admin = await adminToken(lb);
  }, 150_000);

  afterAll(async () => {
    await db?.end();
    await cluster?.stop();
    // instance and nginx logs: KEEP_CLUSTER_DIR=1 keeps them for a look after a failure
    if (cluster && !process.env.KEEP_CLUSTER_DIR) fs.rmSync(cluster.dir, { recursive: true, force: true });
  }, 60_000);

  it('gRPC through grpc_pass: CreateOrder, GetOrder and ListOrders, balanced per call over both instances; health SERVING', async () => {
    const sku = uniqueSku('GRPC');
    await createProduct(lb, admin, [{ sku, price: 750, stockOnHand: 10 }]);
    const [buyer] = await buyers(1);
    const client = orderServiceClient(cluster.grpcAddress);
    const health = healthClient(cluster.grpcAddress);
    const rids = new Set<string>();
    const call = <T = any>(method: string, req: unknown): Promise<T> => {
      const md = bearer(buyer.token);
      const rid = `${tag}-grpc-${rids.size}`;
      rids.add(rid);
      md.set('x-request-id', rid);
      return new Promise((resolve, reject) =>
        client[method](req, md, (err: grpc.ServiceError | null, res: T) =>
          err ? reject(err) : resolve(res),
        ),
      );
    };
    try {
      const created = await call('CreateOrder', { items: [{ sku, quantity: 2 }] });
      expect(created).toMatchObject({
        user_id: buyer.id,
        status: 'ORDER_STATUS_PENDING_PAYMENT',
        total: { currency_code: 'EUR', amount_minor: 1500 },
      });
      for (let i = 0; i < 6; i++) expect((await call('GetOrder', { id: created.id })).id).toBe(created.id);
      const list = await call('ListOrders', { page_size: 10 });
      expect(list.orders.map((o: { id: string }) => o.id)).toEqual([created.id]);
      const served = await new Promise<any>((resolve, reject) =>
        health.Check({ service: '' }, (err: Error | null, res: unknown) =>
          err ? reject(err) : resolve(res),
        ),
      );
      expect(served.status).toBe('SERVING');
    } finally {
      client.close();
      health.close();
    }
    // nginx opened HTTP/2 streams to both instances' gRPC ports: one client connection, per-call balancing.
    const upstreams = await eventually(async () => {
      const s = servedBy(rids);
      return s.size === 2 ? s : undefined;
    }, 5000);
    expect([...upstreams].sort()).toEqual([...grpcAddrs].sort());
  });

  it('oversell through nginx: 80 concurrent orders from 8 users for 20 units on 2 instances → exactly 20 × 201, 60 × 409 INSUFFICIENT_STOCK', async () => {
    const sku = uniqueSku('CLRUSH');
    await createProduct(lb, admin, [{ sku, price: 1999, stockOnHand: 20 }]);
    const users = await buyers(8);
    const rids = new Set<string>();
    const results = await Promise.all(
      Array.from({ length: 80 }, (_, i) => {
        const rid = `${tag}-rush-${i}`;
        rids.add(rid);
        return http('POST', lb.api('/orders'), {
          token: users[i % 8].token,
          body: { items: [{ sku, quantity: 1 }] },
          headers: { 'x-request-id': rid },
        });
      }),
    );
    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status !== 201);
    expect(created).toHaveLength(20);
    expect(refused.map((r) => [r.status, r.body.code])).toEqual(Array(60).fill([409, 'INSUFFICIENT_STOCK']));
    expect(new Set(created.map((r) => r.body.id)).size).toBe(20);
    expect(await stockOf(lb, admin, sku)).toMatchObject({ onHand: 20, reserved: 20, available: 0 });
    const [[{ n }]] = (await db.query(
      'SELECT COUNT(DISTINCT oi.order_id) AS n FROM order_items oi WHERE oi.sku = ?',
      [sku],
    )) as any;
    expect(Number(n)).toBe(20);
    // both instances took part in the race
    const upstreams = await eventually(async () => {
      const s = servedBy(rids);
      return s.size === 2 ? s : undefined;
    }, 5000);
    expect([...upstreams].sort()).toEqual([...apiAddrs].sort());
  });

  it('flash sale through nginx: 30 units, 100 users → exactly 30 × 202, 70 × 409 SOLD_OUT; the worker turns the 30 into orders in MySQL', async () => {
    const sku = uniqueSku('CLFS');
    await createProduct(lb, admin, [{ sku, price: 99900, stockOnHand: 50 }]);
    const saleId = await openFlashSale(lb, admin, { sku, quantity: 30 });
    const users = await buyers(100);
    const rids = new Set<string>();
    const results = await Promise.all(
      users.map(async (u, i) => {
        const rid = `${tag}-flash-${i}`;
        rids.add(rid);
        const res = await http('POST', lb.api(`/flash-sales/${saleId}/purchase`), {
          token: u.token,
          headers: { 'x-request-id': rid },
        });
        return { u, res };
      }),
    );
    const won = results.filter((r) => r.res.status === 202);
    expect(won).toHaveLength(30);
    const lost = results.filter((r) => r.res.status !== 202);
    expect(lost.map((r) => [r.res.status, r.res.body.code])).toEqual(Array(70).fill([409, 'SOLD_OUT']));
    const winners = new Set(won.map((r) => r.u.id));

    // Only the worker consumes the reservation stream: these orders are its work.
    const orders = await eventually(async () => {
      const [rows] = (await db.query(
        'SELECT user_id, status, total_minor FROM orders WHERE flash_sale_id = ?',
        [saleId],
      )) as any;
      return rows.length >= 30
        ? (rows as { user_id: string; status: string; total_minor: number }[])
        : undefined;
    }, 15_000);
    expect(orders).toHaveLength(30);
    expect(new Set(orders.map((o) => o.user_id))).toEqual(winners);
    for (const o of orders) expect([o.status, Number(o.total_minor)]).toEqual(['PENDING_PAYMENT', 19900]);
    const mine = await http('GET', lb.api(`/flash-sales/${saleId}/purchase`), { token: won[0].u.token });
    expect(mine.body).toMatchObject({ status: 'confirmed', orderId: expect.any(String) });
    expect(await stockOf(lb, admin, sku)).toMatchObject({ onHand: 50, reserved: 30, available: 20 });
    const upstreams = await eventually(async () => {
      const s = servedBy(rids);
      return s.size === 2 ? s : undefined;
    }, 5000);
    expect([...upstreams].sort()).toEqual([...apiAddrs].sort());
  });

  it('SIGKILL of one api instance under load: no GET fails, a POST fails only when it was in flight on the killed instance, no order is created twice', async () => {
    const sku = uniqueSku('CLLOAD');
    const productId = await createProduct(lb, admin, [{ sku, price: 500, stockOnHand: 100_000 }]);
    const users = await buyers(8);
    const [victim, survivor] = cluster.apis;
    const victimAddr = `127.0.0.1:${victim.port}`;
    const survivorAddr = `127.0.0.1:${survivor.port}`;

    const load = new LoadGenerator(`${tag}-load`);
    load.start('get', 12, () => ({ method: 'GET', url: lb.api(`/products/${productId}`) }));
    load.start('post', 4, (i) => {
      const user = users[i % users.length];
      const key = `${tag}-k${i}`;
      return {
        method: 'POST',
        url: lb.api('/orders'),
        token: user.token,
        body: { items: [{ sku, quantity: 1 }] },
        headers: { 'idempotency-key': key },
        meta: { user, key },
      };
    });
    await load.waitFor(200);
    const inFlightAtKill = load.inFlightByKind();
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await victim.exited;
    const exitedAt = Date.now();
    // Past nginx's fail_timeout (5 s): it probes the dead instance again, which must not surface either.
    await load.waitFor(300, 7000);
    await load.stop();

    const samples = load.samples;
    // nginx writes a line once the answer is sent: wait until every request has its line
    const lines = await eventually(async () => {
      const byRid = new Map(access().map((l) => [l.rid, l]));
      return samples.every((s) => byRid.has(s.rid)) ? byRid : undefined;
    }, 5000);
    const lastTried = (rid: string) => lines.get(rid)?.upstreams.at(-1);
    const before = samples.filter((s) => s.startedAt < killedAt);
    const after = samples.filter((s) => s.startedAt >= exitedAt);
    // "In flight on the killed instance": sent before its exit was seen, not answered when it was killed.
    const dying = new Set(
      samples.filter((s) => s.kind === 'post' && s.startedAt < exitedAt && s.endedAt >= killedAt),
    );
    const failedGets = samples.filter((s) => s.kind === 'get' && s.status !== 200);
    const failedPosts = samples.filter((s) => s.kind === 'post' && s.status !== 201);

    // both instances served before the kill, only the survivor once the exit was seen
    expect(new Set(before.map((s) => lastTried(s.rid)))).toEqual(new Set(apiAddrs));
    expect(after.length).toBeGreaterThan(0);
    expect([...new Set(after.map((s) => lastTried(s.rid)))]).toEqual([survivorAddr]);
    // nginx passed requests on to the survivor (GETs in flight on the victim, refused connects)
    const passedOn = samples.filter((s) => (lines.get(s.rid)?.upstreams.length ?? 0) > 1);
    expect(passedOn.length).toBeGreaterThan(0);
    expect(failedGets.map((s) => [s.rid, s.status])).toEqual([]);
    // A POST is never re-sent once it may have reached an instance: only POSTs nginx had sent to
    // the dying instance may fail, with nginx's 502, the victim as the one upstream tried.
    for (const s of failedPosts)
      expect([s.rid, s.status, lines.get(s.rid)?.upstreams, dying.has(s)]).toEqual([
        s.rid,
        502,
        [victimAddr],
        true,
      ]);

    // The client's way out of the ambiguity: the same Idempotency-Key again. Either the order
    // committed (the replay returns it) or it did not (created now); a claim the dead instance
    // left mid-transaction answers 409 IDEMPOTENCY_IN_PROGRESS, never a second order.
    const retried = await Promise.all(
      failedPosts.map((s) => {
        const { user, key } = s.meta as { user: Buyer; key: string };
        return placeOrder(lb, user.token, [{ sku, quantity: 1 }], key);
      }),
    );
    for (const r of retried)
      expect(r.status === 201 || (r.status === 409 && r.body.code === 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    const createdIds = new Set(
      [
        ...samples.filter((s) => s.status === 201).map((s) => s.body.id),
        ...retried.map((r) => r.body.id),
      ].filter(Boolean),
    );
    const [rows] = (await db.query(
      `SELECT o.id, o.idempotency_key AS k FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE oi.sku = ?`,
      [sku],
    )) as any;
    const keys = (rows as { k: string }[]).map((r) => r.k);
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set((rows as { id: string }[]).map((r) => r.id))).toEqual(createdIds);
    expect(await stockOf(lb, admin, sku)).toMatchObject({ onHand: 100_000, reserved: createdIds.size });

    console.log(
      `cluster kill under load: ${JSON.stringify({
        requests: samples.length,
        beforeKill: before.length,
        whileDying: samples.length - before.length - after.length,
        afterExit: after.length,
        inFlightAtKill,
        postsInFlightWhileDying: dying.size,
        failedGets: failedGets.length,
        failedPosts: failedPosts.length,
        passedOnByNginx: passedOn.length,
        exitSeenAfterMs: exitedAt - killedAt,
        retriedWithSameKey: retried.map((r) => r.body.code ?? r.status),
      })}`,
    );

    // the survivor carries on: ready through nginx
    expect((await http('GET', `${lb.url}/health/ready`)).status).toBe(200);
  });
});
