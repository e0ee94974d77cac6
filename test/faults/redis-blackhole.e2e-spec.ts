import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { createProduct, uniqueSku } from '../orders/builders';
import { BulkUser, adminToken, bulkUsers, registerUser } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { openFlashSale } from '../support/flash-sale';
import { orderServiceClient, unary } from '../support/grpc';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { Outcome, closedLoop, countBy, latency, sleep, timedFetch } from './load';

/** REDIS_COMMAND_TIMEOUT_MS of the instance under test. */
const COMMAND_TIMEOUT_MS = 1000;
/**
 * What "answered within the bound" means here: the command bound plus generous slack for a
 * shared 2-core machine (the after-commit publish, an L2 read, argon2 for a login). A request
 * that waits on the silent Redis itself, as before decision 0014, never answers at all.
 */
const ANSWER_BOUND_MS = COMMAND_TIMEOUT_MS + 4000;
/** The test's clients give up here (a hang is recorded as 'no answer'). */
const CLIENT_GIVES_UP_MS = 20_000;
const FAULT_MS = 6000;

type Kind = 'rest order' | 'grpc order' | 'flash purchase' | 'login' | 'catalog read';
type Rec = Outcome & { kind: Kind; key?: string; user?: BulkUser };

/**
 * Issue 19, item 1: Redis accepts connections but never answers (the fault proxy black-holes
 * every byte, in both directions, on open and new connections) under an `api` instance.
 * Requests answer within the bound (503 UNAVAILABLE naming redis where Redis is needed, success
 * where it is not: a committed order is never turned into an error or a hang by an after-commit
 * Redis step); catalog reads keep serving; readiness says 503 and its admin view names redis;
 * after the fault a retry with the same Idempotency-Key returns the one order (REST and gRPC);
 * the instance is ready again without a restart.
 */
describe('fault: Redis black-holed under an api instance', () => {
  let proxy: FaultProxy;
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    const u = new URL(process.env.REDIS_URL!);
    proxy = new FaultProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    u.port = String(proxy.port);
    t = await startApp({
      APP_ROLE: 'api',
      REDIS_URL: u.toString(),
      REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
      FLASH_SALE_PURCHASE_RATE_LIMIT: '1000000',
    });
    admin = await adminToken(t);
  });
  afterAll(async () => {
    await proxy?.set('pass');
    await t?.close();
    await proxy?.stop();
  });

  it('answers REST and gRPC orders, flash purchases, logins and catalog reads within the bound, keeps one order per key, and is ready again without a restart', async () => {
    const sku = uniqueSku('BH');
    const saleSku = uniqueSku('BH-FS');
    const productId = await createProduct(t, admin, [
      { sku, price: 1_000, stockOnHand: 10_000 },
      { sku: saleSku, price: 5_000, stockOnHand: 2_000 },
    ]);
    const saleId = await openFlashSale(t, admin, { sku: saleSku, price: 2_500, quantity: 2_000 });
    // One customer per order and per purchase: no per-customer limit is what answers here.
    const [restUsers, grpcUsers, buyers] = [
      await bulkUsers(t, 400, 'bh-rest'),
      await bulkUsers(t, 400, 'bh-grpc'),
      await bulkUsers(t, 1200, 'bh-buy'),
    ];
    const shopper = await registerUser(t);
    const client = orderServiceClient(t.grpcUrl);
    expect((await http('GET', t.api(`/products/${productId}`))).status).toBe(200);
    expect((await http('GET', `${t.url}/health/ready`)).status).toBe(200);

    const t0 = Date.now();
    const recs: Rec[] = [];
    let stop = false;
    const pool = (users: BulkUser[]) => {
      let i = 0;
      return { next: () => users[i++], done: () => stop || i >= users.length };
    };
    const [rest, rpc, buy] = [pool(restUsers), pool(grpcUsers), pool(buyers)];
    const restOrder = async (user: BulkUser, key: string): Promise<Rec> => ({
      kind: 'rest order',
      key,
      user,
      ...(await timedFetch(t0, t.api('/orders'), {
        method: 'POST',
        token: user.token,
        body: { items: [{ sku, quantity: 1 }] },
        headers: { 'idempotency-key': key },
        timeoutMs: CLIENT_GIVES_UP_MS,
      })),
    });
    const grpcOrder = async (user: BulkUser, key: string): Promise<Rec> => {
      const start = Date.now() - t0;
      try {
        const res = await unary(
          client,
          'CreateOrder',
          { items: [{ sku, quantity: 1 }], idempotency_key: key },
          user.token,
          { deadline: Date.now() + CLIENT_GIVES_UP_MS },
        );
        return { kind: 'grpc order', key, user, start, end: Date.now() - t0, status: 'OK', id: res.id };
      } catch (err) {
        const e = err as grpc.ServiceError;
        const md = (name: string) => e.metadata?.get(name)[0]?.toString();
        return {
          kind: 'grpc order',
          key,
          user,
          start,
          end: Date.now() - t0,
          status: e.code === grpc.status.DEADLINE_EXCEEDED ? 'no answer' : grpc.status[e.code],
          code: md('error-code'),
          dependency: md('dependency'),
        };
      }
    };

    const load = Promise.all([
      closedLoop(2, rest.done, async () => {
        recs.push(await restOrder(rest.next(), randomUUID()));
        await sleep(100);
      }),
      closedLoop(2, rpc.done, async () => {
        recs.push(await grpcOrder(rpc.next(), randomUUID()));
        await sleep(100);
      }),
      closedLoop(2, buy.done, async () => {
        const u = buy.next();
        recs.push({
          kind: 'flash purchase',
          user: u,
          ...(await timedFetch(t0, t.api(`/flash-sales/${saleId}/purchase`), {
            method: 'POST',
            token: u.token,
            timeoutMs: CLIENT_GIVES_UP_MS,
          })),
        });
        await sleep(50);
      }),
      closedLoop(
        1,
        () => stop,
        async () => {
          recs.push({
            kind: 'login',
            ...(await timedFetch(t0, t.api('/auth/login'), {
              method: 'POST',
              body: { email: shopper.email, password: shopper.password },
              timeoutMs: CLIENT_GIVES_UP_MS,
            })),
          });
          await sleep(200);
        },
      ),
      closedLoop(
        1,
        () => stop,
        async () => {
          recs.push({
            kind: 'catalog read',
            ...(await timedFetch(t0, t.api(`/products/${productId}`), {
              method: 'GET',
              timeoutMs: CLIENT_GIVES_UP_MS,
            })),
          });
          await sleep(100);
        },
      ),
    ]);

    await sleep(500);
    await proxy.set('blackhole');
    const faultAt = Date.now() - t0;
    // Readiness notices, and its admin view names the dependency; anonymous callers get the status only.
    const readyDuring = await eventually(
      async () => {
        const r = await http('GET', `${t.url}/health/ready`, { token: admin });
        return r.status === 503 ? r : undefined;
      },
      10_000,
      200,
    );
    const anonymousDuring = await http('GET', `${t.url}/health/ready`);
    await sleep(Math.max(0, faultAt + FAULT_MS - (Date.now() - t0)));
    stop = true;
    await load; // every request, including those in flight, answered while Redis is still silent
    await proxy.set('pass');
    const passAt = Date.now();
    const faultEnd = passAt - t0;
    const readyAt = await eventually(
      async () => ((await http('GET', `${t.url}/health/ready`)).status === 200 ? Date.now() : undefined),
      30_000,
      100,
    ).catch(() => undefined);

    const took = (r: Rec) => r.end - r.start;
    const during = recs.filter((r) => r.start >= faultAt);
    const allowed: Record<Kind, (number | string)[]> = {
      // The order needs MySQL only: committed → 201 even when the after-commit publish times out.
      'rest order': [201, 503],
      'grpc order': ['OK', 'UNAVAILABLE'],
      // One Lua script on Redis: nothing else can answer it.
      'flash purchase': [503],
      // Attempts are counted in this process while Redis is silent.
      login: [200, 503],
      // L1, then the database: Redis is not needed.
      'catalog read': [200],
    };
    const summary = (rs: Rec[]) =>
      (Object.keys(allowed) as Kind[])
        .map((k) => {
          const mine = rs.filter((r) => r.kind === k);
          const by = countBy(
            mine,
            (r) => `${r.status}${r.code && r.code !== 'UNAVAILABLE' ? ` ${r.code}` : ''}`,
          );
          return `${k} ${mine.length} ${JSON.stringify(by)} (${latency(mine)})`;
        })
        .join('; ');
    console.log(
      `fault Redis black hole: ${faultAt}–${faultEnd} ms, REDIS_COMMAND_TIMEOUT_MS ${COMMAND_TIMEOUT_MS}, ` +
        `bound ${ANSWER_BOUND_MS} ms; requests ${recs.length}, during the fault ${during.length}: ${summary(during)}; ` +
        `max time to answer ${Math.max(...recs.map(took))} ms; readiness during ${readyDuring.status} ` +
        `(unavailable ${JSON.stringify(readyDuring.body?.unavailable)}), anonymous ${JSON.stringify(anonymousDuring.body)}; ` +
        `ready again ${readyAt ? `${readyAt - passAt} ms after Redis answered` : 'not within 30 s'}`,
    );

    // Every request was answered within the bound; those made during the fault as their kind allows.
    expect(recs.filter((r) => r.status === 'no answer')).toEqual([]);
    expect(recs.filter((r) => took(r) > ANSWER_BOUND_MS)).toEqual([]);
    for (const kind of Object.keys(allowed) as Kind[]) {
      const mine = during.filter((r) => r.kind === kind);
      expect({ kind, some: mine.length > 0 }).toEqual({ kind, some: true });
      const unexpected = mine.filter((r) => !allowed[kind].includes(r.status));
      expect(unexpected.map((r) => ({ kind, status: r.status, code: r.code }))).toEqual([]);
    }
    for (const r of during.filter((x) => x.status === 503 || x.status === 'UNAVAILABLE'))
      expect({ kind: r.kind, code: r.code, dependency: r.dependency }).toEqual({
        kind: r.kind,
        code: 'UNAVAILABLE',
        dependency: 'redis',
      });

    // Readiness failed during the fault; its admin view named Redis, the anonymous one said the status only.
    expect(readyDuring.body.redis.state).toBe('down');
    expect(readyDuring.body.unavailable).toContain('redis');
    expect(readyDuring.body.primary.state).toBe('up');
    expect({ status: anonymousDuring.status, body: anonymousDuring.body }).toEqual({
      status: 503,
      body: { status: 'error' },
    });

    // Ready again without a restart once Redis answers.
    expect(readyAt).toEqual(expect.any(Number));

    // After the fault, a retry with the same key gets the one order (REST and gRPC).
    const keyed = recs.filter((r) => r.key);
    const retries = await Promise.all(
      keyed.map((r) => (r.kind === 'rest order' ? restOrder(r.user!, r.key!) : grpcOrder(r.user!, r.key!))),
    );
    for (const [i, r] of retries.entries()) {
      const first = keyed[i];
      expect({ kind: r.kind, status: r.status }).toEqual({
        kind: r.kind,
        status: r.kind === 'rest order' ? 201 : 'OK',
      });
      if (first.status === 201 || first.status === 'OK')
        expect({ key: first.key, id: r.id }).toEqual({ key: first.key, id: first.id });
    }
    const db = t.app.get(DbRouter);
    const rows: { k: string; n: number | string }[] = await db
      .primaryReader()
      .query(
        'SELECT idempotency_key AS k, COUNT(*) AS n FROM orders WHERE idempotency_key IN (?) GROUP BY idempotency_key',
        [keyed.map((r) => r.key)],
      );
    const found = rows.reduce((sum, r) => sum + Number(r.n), 0);
    expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
    expect(found).toBe(keyed.length);

    // Serving again, Redis included, without a restart.
    const fresh = (await bulkUsers(t, 1, 'bh-after'))[0];
    const after = await timedFetch(t0, t.api(`/flash-sales/${saleId}/purchase`), {
      method: 'POST',
      token: fresh.token,
    });
    expect(after.status).toBe(202);

    console.log(
      `fault Redis black hole: retries with the same key ${retries.length} ` +
        `${JSON.stringify(countBy(retries, (r) => `${r.kind} ${r.status}`))}; orders with those keys ` +
        `expected ${keyed.length}, found ${found}; a purchase after recovery ${after.status}`,
    );
    client.close();
  });
});
