import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { RedisService } from '../../src/infra/redis/redis.service';
import { FlashSaleDefinitions, FlashSalePersistence, FlashSaleStore } from '../../src/flash-sale/testing';
import { FlashSaleService } from '../../src/flash-sale';
import { BulkUser, adminToken, bulkUsers } from '../support/auth';
import { openFlashSale } from '../support/flash-sale';
import { TestApp, eventually, http, startApp } from '../support/test-app';

/**
 * Flash sale (issue 7): one Lua round trip per purchase, no oversell across instances, every
 * winner gets an ordinary order, nothing lost or duplicated when a consumer dies mid-batch.
 */

type TestUser = BulkUser;

async function createSku(t: TestApp, admin: string, stock: number): Promise<string> {
  const sku = `FS-${randomBytes(4).toString('hex').toUpperCase()}`;
  const res = await http('POST', t.api('/products'), {
    token: admin,
    body: {
      name: `Flash product ${sku}`,
      status: 'active',
      variants: [{ sku, price: 99900, currency: 'EUR', stockOnHand: stock }],
    },
  });
  if (res.status !== 201) throw new Error(`create product: ${res.status} ${JSON.stringify(res.body)}`);
  return sku;
}

const createSale = openFlashSale;

const purchase = (t: TestApp, saleId: string, u: TestUser) =>
  http('POST', t.api(`/flash-sales/${saleId}/purchase`), { token: u.token });

const flashOrders = (t: TestApp, saleId: string) =>
  t.app
    .get(DbRouter)
    .primaryReader()
    .query(
      'SELECT id, user_id, reservation_id, status, total_minor, currency FROM orders WHERE flash_sale_id = ?',
      [saleId],
    ) as Promise<
    {
      id: string;
      user_id: string;
      reservation_id: string;
      status: string;
      total_minor: number;
      currency: string;
    }[]
  >;

describe('flash sale: 100 units, 300 users x 5 concurrent attempts, two instances', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  let users: TestUser[];

  beforeAll(async () => {
    // a consumes the stream (APP_ROLE=all); b only serves the API.
    [a, b] = await Promise.all([startApp(), startApp({ APP_ROLE: 'api' })]);
    admin = await adminToken(a);
    users = await bulkUsers(a, 320, 'fs');
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('sells exactly 100 units to 100 distinct users; every other attempt is 409 SOLD_OUT or ALREADY_PURCHASED', async () => {
    const sku = await createSku(a, admin, 150);
    const saleId = await createSale(a, admin, { sku, quantity: 100, price: 19900, perUserLimit: 1 });
    const buyers = users.slice(0, 300);

    const attempts = buyers.flatMap((u, i) =>
      Array.from({ length: 5 }, (_, k) => ({ u, app: (i + k) % 2 ? a : b })),
    );
    attempts.sort(() => Math.random() - 0.5);
    const results = await Promise.all(
      attempts.map(async ({ u, app }) => ({ u, res: await purchase(app, saleId, u) })),
    );

    const won = results.filter((r) => r.res.status === 202);
    expect(won).toHaveLength(100);
    const winners = new Set(won.map((r) => r.u.id));
    expect(winners.size).toBe(100);
    for (const r of won) expect(r.res.body.reservationId).toMatch(/^[0-9a-f-]{36}$/);
    const lost = results.filter((r) => r.res.status !== 202);
    expect(lost).toHaveLength(1400);
    for (const r of lost) {
      expect(r.res.status).toBe(409);
      // A user who never got a unit can only hear SOLD_OUT; a winner hears either.
      if (winners.has(r.u.id)) expect(['ALREADY_PURCHASED', 'SOLD_OUT']).toContain(r.res.body.code);
      else expect(r.res.body.code).toBe('SOLD_OUT');
    }

    // Within 10 s every winner has an ordinary PENDING_PAYMENT order at the sale price.
    const orders = await eventually(async () => {
      const rows = await flashOrders(a, saleId);
      return rows.length >= 100 ? rows : undefined;
    }, 10_000);
    expect(orders).toHaveLength(100);
    expect(new Set(orders.map((o) => o.user_id))).toEqual(winners);
    for (const o of orders) {
      expect(o.status).toBe('PENDING_PAYMENT');
      expect(Number(o.total_minor)).toBe(19900);
      expect(o.currency).toBe('EUR');
    }

    const winner = won[0].u;
    const mine = orders.find((o) => o.user_id === winner.id)!;
    const view = await http('GET', b.api(`/orders/${mine.id}`), { token: winner.token });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ id: mine.id, status: 'PENDING_PAYMENT' });
    const other = users.find((u) => !winners.has(u.id))!;
    expect((await http('GET', b.api(`/orders/${mine.id}`), { token: other.token })).status).toBe(404);

    const result = await http('GET', b.api(`/flash-sales/${saleId}/purchase`), { token: winner.token });
    expect(result.body).toEqual({
      status: 'confirmed',
      orderId: mine.id,
      reservationId: mine.reservation_id,
    });
    const none = await http('GET', a.api(`/flash-sales/${saleId}/purchase`), { token: other.token });
    expect(none.body).toEqual({ status: 'none' });

    const sale = await http('GET', b.api(`/flash-sales/${saleId}`));
    expect(sale.status).toBe(200);
    expect(sale.body).toMatchObject({ id: saleId, sku, quantity: 100, remaining: 0, status: 'SOLD_OUT' });

    // The last XACK follows the last commit by a moment: wait for a settled report.
    const report = await eventually(async () => {
      const r = await http('POST', a.api(`/flash-sales/${saleId}/reconcile`), { token: admin });
      return r.body?.settled ? r : undefined;
    });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      settled: true,
      drift: 0,
      problems: [],
      redis: { stock: 0, reservations: 100, held: 100, pending: 0, undelivered: 0 },
      database: { reservations: 100, orders: 100 },
    });

    // The sale's units stay reserved in inventory (now held by the orders): 150 on hand, 100 reserved.
    const inv = await http('GET', a.api(`/inventory/${sku}`), { token: admin });
    expect(inv.body).toMatchObject({ onHand: 150, reserved: 100, available: 50 });
    const metrics = String((await http('GET', `${a.url}/metrics`)).body);
    expect(metrics).toMatch(/shop_flash_sale_purchases_total\{outcome="reserved"\} \d+/);
    expect(metrics).toContain('shop_flash_sale_drift');
    expect(metrics).toContain('shop_flash_sale_stream_lag');
  });

  it('answers NOT_ACTIVE before the start and after the end, then closes the sale and releases unsold units', async () => {
    const sku = await createSku(a, admin, 20);
    const later = await createSale(a, admin, {
      sku,
      quantity: 5,
      startsAt: new Date(Date.now() + 3_600_000).toISOString(),
      endsAt: new Date(Date.now() + 7_200_000).toISOString(),
    });
    const early = await purchase(b, later, users[300]);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('NOT_ACTIVE');
    expect((await http('GET', a.api(`/flash-sales/${later}`))).body.status).toBe('SCHEDULED');

    const short = await createSale(a, admin, {
      sku,
      quantity: 5,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await purchase(a, short, users[301])).status).toBe(202);
    await new Promise((r) => setTimeout(r, 1700));
    const late = await purchase(b, short, users[302]);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('NOT_ACTIVE');

    // The end job closed it: the 4 unsold units are back in inventory; 5 (later) + 1 (sold) stay reserved.
    await eventually(async () => {
      const inv = await http('GET', a.api(`/inventory/${sku}`), { token: admin });
      return inv.body.reserved === 6 ? inv : undefined;
    }, 10_000);
    const sale = await http('GET', a.api(`/flash-sales/${short}`));
    expect(sale.body.status).toBe('ENDED');
  });

  it('gives the unit of a cancelled unpaid order back to the sale; the buyer may buy again', async () => {
    const sku = await createSku(a, admin, 5);
    const saleId = await createSale(a, admin, { sku, quantity: 1, price: 700 });
    const [buyer, rival] = [users[306], users[307]];
    expect((await purchase(a, saleId, buyer)).status).toBe(202);
    expect((await purchase(b, saleId, rival)).body.code).toBe('SOLD_OUT');
    const result = await eventually(async () => {
      const r = await http('GET', a.api(`/flash-sales/${saleId}/purchase`), { token: buyer.token });
      return r.body.status === 'confirmed' ? r.body : undefined;
    });
    const cancel = await http('POST', a.api(`/orders/${result.orderId}/cancel`), { token: buyer.token });
    expect(cancel.status).toBe(200);
    await eventually(async () => {
      const sale = await http('GET', b.api(`/flash-sales/${saleId}`));
      return sale.body.remaining === 1;
    });
    // Both instances drop their sold-out flag (pub/sub, a moment later); the buyer holds nothing now
    // and may buy again.
    const again = await eventually(async () => {
      const r = await purchase(b, saleId, buyer);
      if (r.status !== 202) expect(r.body.code).toBe('SOLD_OUT');
      return r.status === 202 ? r : undefined;
    }, 5000);
    expect(again.body.reservationId).toBeDefined();
    await eventually(async () => (await flashOrders(a, saleId)).length === 2);
    const report = await eventually(async () => {
      const r = await http('POST', a.api(`/flash-sales/${saleId}/reconcile`), { token: admin });
      return r.body?.settled && r.body.database.returned === 1 ? r : undefined;
    });
    expect(report.body).toMatchObject({
      drift: 0,
      redis: { stock: 0, reservations: 2, returned: 1, held: 1 },
      database: { reservations: 2, confirmed: 1, returned: 1, orders: 2 },
    });
  });

  it('answers a sold-out sale at the HTTP edge only for authenticated callers, in the contract shape', async () => {
    const sku = await createSku(a, admin, 5);
    const saleId = await createSale(a, admin, { sku, quantity: 1 });
    expect((await purchase(a, saleId, users[315])).status).toBe(202);
    // The last unit raised the flag on a and, by broadcast, on b.
    await eventually(async () =>
      (await purchase(b, saleId, users[316])).body.code === 'SOLD_OUT' ? true : undefined,
    );
    const metric = async () => {
      const text = String((await http('GET', `${a.url}/metrics`)).body);
      const m = /shop_flash_sale_purchases_total\{outcome="sold_out_local"\} (\d+)/.exec(text);
      return m ? Number(m[1]) : 0;
    };
    const before = await metric();
    // Answered before Nest's pipeline: the controller (and so the service) is never reached.
    const service = jest.spyOn(a.app.get(FlashSaleService), 'purchase');
    const sold = await purchase(a, saleId, users[316]);
    expect(service).not.toHaveBeenCalled();
    service.mockRestore();
    expect(sold.status).toBe(409);
    expect(sold.body).toEqual({
      statusCode: 409,
      code: 'SOLD_OUT',
      message: 'This flash sale is sold out',
      requestId: sold.headers.get('x-request-id'),
    });
    expect(sold.headers.get('x-content-type-options')).toBe('nosniff');
    expect(sold.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await metric()).toBe(before + 1);
    // No token, a forged one, or a malformed header: the guard still answers 401, flag or not.
    const url = a.api(`/flash-sales/${saleId}/purchase`);
    expect((await http('POST', url)).status).toBe(401);
    expect((await http('POST', url, { token: `${users[316].token}x` })).status).toBe(401);
    expect((await http('POST', url, { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    // Other routes and methods are untouched by it.
    expect((await http('GET', url, { token: users[316].token })).status).toBe(200);
  });

  it('throttles a user hammering the purchase endpoint (429 RATE_LIMITED), per user', async () => {
    const sku = await createSku(a, admin, 10);
    const saleId = await createSale(a, admin, { sku, quantity: 5 });
    const bot = users[308];
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push((await purchase(i % 2 ? a : b, saleId, bot)).status);
    expect(codes[0]).toBe(202);
    expect(codes.slice(1, 20).every((c) => c === 409)).toBe(true);
    expect(codes.slice(20).every((c) => c === 429)).toBe(true);
    // Someone else is not affected.
    expect((await purchase(a, saleId, users[309])).status).toBe(202);
  });

  it('validates the sale: admin only, quantity and window, known SKU, enough stock', async () => {
    const sku = await createSku(a, admin, 10);
    const base = {
      sku,
      price: 100,
      quantity: 5,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 60_000).toISOString(),
    };
    const post = (body: object, token = admin) => http('POST', a.api('/flash-sales'), { token, body });
    expect((await post(base, users[303].token)).status).toBe(403);
    expect((await post({ ...base, quantity: 0 })).body.code).toBe('VALIDATION_FAILED');
    expect((await post({ ...base, perUserLimit: 0 })).body.code).toBe('VALIDATION_FAILED');
    expect((await post({ ...base, price: 1.5 })).body.code).toBe('VALIDATION_FAILED');
    expect((await post({ ...base, endsAt: base.startsAt })).status).toBe(400);
    expect((await post({ ...base, sku: 'NO-SUCH-SKU' })).status).toBe(404);
    const tooMany = await post({ ...base, quantity: 11 });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.code).toBe('INSUFFICIENT_STOCK');
    expect((await http('GET', a.api(`/flash-sales/${newId()}`))).status).toBe(404);
    expect((await purchase(a, newId(), users[303])).status).toBe(404);
  });

  it('rebuilds a sale whose Redis keys vanished from MySQL before it sells again (503 SALE_PAUSED meanwhile)', async () => {
    const sku = await createSku(a, admin, 10);
    const saleId = await createSale(a, admin, { sku, quantity: 3 });
    expect((await purchase(a, saleId, users[304])).status).toBe(202);
    const result = (u: TestUser) =>
      http('GET', a.api(`/flash-sales/${saleId}/purchase`), { token: u.token }).then((r) => r.body);
    await eventually(
      async () => ((await result(users[304])).status === 'confirmed' ? true : undefined),
      15_000,
    );
    const store = a.app.get(FlashSaleStore);
    // Lose the sale's state, as a Redis restarted without its AOF would.
    const redis = RedisService.createClient(a.config.redis.url);
    try {
      await redis.del(store.keys(saleId).state, store.keys(saleId).held, store.keys(saleId).seq);
    } finally {
      redis.disconnect();
    }
    // The first purchase finds no state: paused (never resold from nothing), a rebuild starts.
    const res = await purchase(b, saleId, users[305]);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('SALE_PAUSED');
    // Rebuilt from MySQL: the unit sold before is still sold, its buyer still holds it.
    const sale = await eventually(async () => {
      const r = await http('GET', a.api(`/flash-sales/${saleId}`));
      return r.body.status === 'ACTIVE' ? r.body : undefined;
    }, 15_000);
    expect(sale.remaining).toBe(2);
    expect((await purchase(b, saleId, users[304])).body.code).toBe('ALREADY_PURCHASED');
    expect((await purchase(b, saleId, users[305])).status).toBe(202);
    const report = await eventually(async () => {
      const r = await http('POST', a.api(`/flash-sales/${saleId}/reconcile`), { token: admin });
      return r.body.settled && r.body.database.confirmed === 2 ? r.body : undefined;
    }, 15_000);
    expect(report).toMatchObject({ drift: 0, problems: [], rejected: [], redis: { stock: 1 } });
    expect(report.database.rebuilds).toBeGreaterThanOrEqual(1);
  });

  it('a sale rolled back to an older copy of its keys (no restart): no unit or number sold twice; each 202 an order or a rejected reservation', async () => {
    const sku = await createSku(a, admin, 10);
    const saleId = await createSale(a, admin, { sku, quantity: 4 });
    const store = a.app.get(FlashSaleStore);
    const k = store.keys(saleId);
    const keys = [k.state, k.held, k.seq, k.stream, k.returned, k.soldout];
    const redis = RedisService.createClient(a.config.redis.url);
    const drained = () =>
      eventually(async () => {
        const s = await store.streamStats(saleId);
        return s.pending + s.lag === 0 ? true : undefined;
      }, 15_000);
    try {
      for (const u of [users[306], users[307]]) expect((await purchase(a, saleId, u)).status).toBe(202);
      await eventually(async () => ((await flashOrders(a, saleId)).length === 2 ? true : undefined), 15_000);
      await drained();
      // An older copy of the sale's keys (what a replica behind the master, or an old RDB, holds).
      const copy = await Promise.all(keys.map((key) => redis.dumpBuffer(key)));
      for (const u of [users[308], users[309]]) expect((await purchase(a, saleId, u)).status).toBe(202);
      await eventually(async () => ((await flashOrders(a, saleId)).length === 4 ? true : undefined), 15_000);
      await drained();
      expect((await purchase(a, saleId, users[310])).body.code).toBe('SOLD_OUT');
      // Roll the sale back. Same Redis process, script cache intact: only the consumer can tell.
      for (const [i, key] of keys.entries()) {
        const dump = copy[i];
        if (dump) await redis.restore(key, 0, dump, 'REPLACE');
        else await redis.del(key);
      }
      await new Promise((r) => setTimeout(r, 3500)); // the sold-out flags expire (3 s)
      // 308 bought after the copy: the old keys let them buy again, with their number 1 again;
      // 310 and 311 get units Redis forgot were sold.
      const again = await Promise.all(
        [users[308], users[310], users[311]].map(async (u) => ({ u, res: await purchase(a, saleId, u) })),
      );
      const accepted = again.filter((x) => x.res.status === 202);
      for (const x of again) expect([202, 409, 503]).toContain(x.res.status);
      expect(accepted.length).toBeGreaterThan(0);

      const report = await eventually(async () => {
        const r = await http('POST', a.api(`/flash-sales/${saleId}/reconcile`), { token: admin });
        return r.body.settled && r.body.drift === 0 && r.body.database.rejected === accepted.length
          ? r.body
          : undefined;
      }, 20_000);
      const orders = await flashOrders(a, saleId);
      expect(orders).toHaveLength(4);
      expect(new Set(orders.map((o) => o.user_id)).size).toBe(4);
      // Every 202 of the rollback is reported as rejected (the database had no unit for it).
      const rejected = new Set(report.rejected.map((r: { reservationId: string }) => r.reservationId));
      for (const x of accepted) expect(rejected.has(x.res.body.reservationId)).toBe(true);
      expect(report.redis.stock).toBe(0);
      expect(report.database.rebuilds).toBeGreaterThanOrEqual(1);
      for (const x of accepted)
        expect(
          (await http('GET', a.api(`/flash-sales/${saleId}/purchase`), { token: x.u.token })).body,
        ).toMatchObject({
          status: 'rejected',
          reason: 'REDIS_LOST_STATE',
          reservationId: x.res.body.reservationId,
        });
      // Rebuilt: sold out again, and the numbers go on from the database's.
      expect((await purchase(a, saleId, users[312])).body.code).toMatch(/SOLD_OUT|SALE_PAUSED/);
    } finally {
      redis.disconnect();
    }
  });
});

describe('flash sale: a consumer killed mid-batch loses nothing and duplicates nothing', () => {
  let api: TestApp;
  let worker: TestApp | undefined;
  let worker2: TestApp | undefined;

  beforeAll(async () => {
    api = await startApp({ APP_ROLE: 'api' });
  });
  afterAll(async () => {
    await Promise.all([api?.close(), worker?.close(), worker2?.close()]);
  });

  it('reclaims the entries a dead consumer read but never acknowledged; orders = reservations', async () => {
    const admin = await adminToken(api);
    const users = await bulkUsers(api, 60, 'fs');
    const sku = await createSku(api, admin, 60);
    const saleId = await createSale(api, admin, { sku, quantity: 60, price: 500 });
    const results = await Promise.all(users.map((u) => purchase(api, saleId, u)));
    expect(results.every((r) => r.status === 202)).toBe(true);

    // A worker reads all 60 entries, commits the first batch of 25 and dies before XACK.
    const store = api.app.get(FlashSaleStore);
    const dead = RedisService.createClient(api.config.redis.url);
    const entries = await store.readGroup(dead, saleId, 'dead-worker', 100, 100);
    dead.disconnect();
    expect(entries).toHaveLength(60);
    const sale = (await api.app.get(FlashSaleDefinitions).find(saleId))!;
    await api.app.get(FlashSalePersistence).persist(sale, entries.slice(0, 25));
    expect(await flashOrders(api, saleId)).toHaveLength(25);
    const before = await store.streamStats(saleId);
    expect(before).toMatchObject({ length: 60, pending: 60, lag: 0 });

    // Another consumer starts and takes the dead one's pending entries over.
    worker = await startApp({ APP_ROLE: 'worker', FLASH_SALE_RECLAIM_IDLE_MS: '500' });
    await eventually(async () => {
      const s = await store.streamStats(saleId);
      return s.pending === 0 ? s : undefined;
    }, 15_000);

    const orders = await flashOrders(api, saleId);
    expect(orders).toHaveLength(60);
    expect(new Set(orders.map((o) => o.reservation_id)).size).toBe(60);
    expect(new Set(orders.map((o) => o.user_id))).toEqual(new Set(users.map((u) => u.id)));
    const report = await http('POST', api.api(`/flash-sales/${saleId}/reconcile`), { token: admin });
    expect(report.body).toMatchObject({
      settled: true,
      drift: 0,
      database: { reservations: 60, orders: 60 },
    });
  });
  it('a consuming instance stopped in the middle of a backlog: the next one finishes it, no duplicates', async () => {
    await worker?.close();
    worker = undefined;
    const admin = await adminToken(api);
    const users = await bulkUsers(api, 200, 'fs');
    const sku = await createSku(api, admin, 400);
    const saleId = await createSale(api, admin, { sku, quantity: 400, perUserLimit: 2, price: 300 });
    const results = await Promise.all(
      users.flatMap((u) => [purchase(api, saleId, u), purchase(api, saleId, u)]),
    );
    expect(results.filter((r) => r.status === 202)).toHaveLength(400);

    // Small batches so the backlog takes a while; stop the consumer as soon as it is under way.
    worker2 = await startApp({ APP_ROLE: 'worker', FLASH_SALE_BATCH_SIZE: '5' });
    await eventually(async () => (await flashOrders(api, saleId)).length > 0, 10_000, 5);
    await worker2.close();
    worker2 = undefined;
    const partial = (await flashOrders(api, saleId)).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(400);

    worker = await startApp({ APP_ROLE: 'worker', FLASH_SALE_RECLAIM_IDLE_MS: '500' });
    const orders = await eventually(async () => {
      const rows = await flashOrders(api, saleId);
      return rows.length >= 400 ? rows : undefined;
    }, 20_000);
    expect(orders).toHaveLength(400);
    expect(new Set(orders.map((o) => o.reservation_id)).size).toBe(400);
    const report = await eventually(async () => {
      const r = await http('POST', api.api(`/flash-sales/${saleId}/reconcile`), { token: admin });
      return r.body?.settled ? r : undefined;
    });
    expect(report.body).toMatchObject({ drift: 0, database: { reservations: 400, orders: 400 } });
  });
});
