import { DbRouter } from '../../src/infra/database/db-router.service';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { TestApp, eventually, startApp } from '../support/test-app';
import { adminReadiness } from '../support/readiness';
import { createProduct, stockOf, uniqueSku } from '../orders/builders';
import { Outcome, closedLoop, countBy, latency, sleep, timedFetch } from './load';

/**
 * Fault 5 of issue 10: the primary goes away under order load, then comes back. A FaultProxy
 * sits between the app and the shared primary (which is never stopped). Writes must fail with
 * 503 UNAVAILABLE instead of hanging, every 201 must be a complete order, and no order, item,
 * outbox row or stock reservation may be left half-written.
 * - Variant 1: every connection is reset, then new connections are black-holed (accepted, never
 *   answered).
 * - Variant 2: the connections the pool already holds are black-holed (a partition with
 *   established sockets). Every statement is bounded by DB_QUERY_TIMEOUT_MS; a statement that
 *   times out fails with 503 and its connection is destroyed, so the pool replaces it and the
 *   app recovers by itself when the primary answers again.
 */
type Step = [atMs: number, mode: 'reset' | 'blackhole' | 'pass'];

async function runScenario(name: string, env: Record<string, string>, steps: Step[], stopMs: number) {
  const primary = new URL(process.env.DB_PRIMARY_URL!);
  const proxy = new FaultProxy(primary.hostname, Number(primary.port || 3306));
  await proxy.start();
  primary.port = String(proxy.port);
  const t: TestApp = await startApp({ DB_PRIMARY_URL: primary.toString(), ...env });
  try {
    const admin = await adminToken(t);
    const buyers: RegisteredUser[] = await Promise.all(Array.from({ length: 6 }, () => registerUser(t)));
    const sku = uniqueSku('PRIMARY');
    await createProduct(t, admin, [{ sku, price: 990, stockOnHand: 100_000 }]);
    const t0 = Date.now();
    let phase = 'before';
    const outcomes: (Outcome & { phase: string })[] = [];
    const load = closedLoop(
      buyers.length,
      () => Date.now() - t0 > stopMs,
      async (w) => {
        const at = phase;
        const o = await timedFetch(t0, t.api('/orders'), {
          method: 'POST',
          token: buyers[w].accessToken,
          body: { items: [{ sku, quantity: 1 }] },
        });
        outcomes.push({ ...o, phase: at });
        if (o.status !== 201) await sleep(50);
      },
    );
    // The fault's window as it happened (ms since t0): from the first fault to the recovery.
    let faultFrom = Infinity;
    let faultTo = Infinity;
    for (const [at, mode] of steps) {
      await sleep(Math.max(0, at - (Date.now() - t0)));
      phase = mode === 'pass' ? 'recovered' : mode;
      await proxy.set(mode);
      if (mode === 'pass') faultTo = Date.now() - t0;
      else faultFrom = Math.min(faultFrom, Date.now() - t0);
    }
    await load;

    // Every request the fault touched: in flight at some moment of it (one sent just before it
    // began waits on a statement the fault swallows; on a slow host those are most of them).
    const during = outcomes.filter((o) => o.end > faultFrom && o.start < faultTo);
    const created = outcomes.filter((o) => o.status === 201);
    const db = t.app.get(DbRouter);
    // The checks read through the app's own pools. A pooled connection that sat idle through the
    // black-hole is still dead: its first statement times out (DB_QUERY_TIMEOUT_MS) and the
    // connection is destroyed — the recovery this fault is about. So a check may meet one such
    // connection per pool slot first, and tries again on a fresh one.
    const orders: { id: string; items: number; outbox: number }[] = await pastDeadConnections(() =>
      db.primaryReader().query(
        `SELECT o.id,
                (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS items,
                (SELECT COUNT(*) FROM outbox x WHERE x.aggregate_id = o.id) AS outbox
           FROM orders o JOIN order_items oi ON oi.order_id = o.id AND oi.sku = ?`,
        [sku],
      ),
    );
    const found = new Set(orders.map((o) => o.id));
    const stock = await pastDeadConnections(() => stockOf(t, admin, sku));
    console.log(
      `fault ${name}: ${outcomes.length} requests, ${during.length} during the fault ` +
        `${JSON.stringify(countBy(during, (o) => `${o.status}${o.code ? ` ${o.code}` : ''}`))} (${latency(during)}); ` +
        `by phase ${JSON.stringify(countBy(outcomes, (o) => `${o.phase}:${o.status}`))}; ` +
        `orders expected ≥ ${created.length} (201s), found ${orders.length}; reserved ${stock.reserved}`,
    );
    // Every request got an answer, and while the primary was gone that answer was 503 UNAVAILABLE.
    expect(outcomes.filter((o) => o.status === 'no answer')).toEqual([]);
    for (const o of during.filter((x) => x.status !== 201))
      expect({ status: o.status, code: o.code }).toEqual({ status: 503, code: 'UNAVAILABLE' });
    expect(during.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    // It recovered without a restart.
    expect(outcomes.filter((o) => o.phase === 'recovered' && o.status === 201).length).toBeGreaterThan(0);
    // Nothing lost, nothing half-written: each 201 is an order; each order is whole; stock matches.
    for (const o of created) expect(found.has(o.id!)).toBe(true);
    for (const o of orders)
      expect({ id: o.id, items: Number(o.items), outbox: Number(o.outbox) }).toEqual({
        id: o.id,
        items: 1,
        outbox: 1,
      });
    expect(stock.reserved).toBe(orders.length);
    // Ready again (its probe, too, may first meet a connection the fault left dead).
    await eventually(async () => (await adminReadiness(t)).body.primary?.state === 'up', 40_000, 250);
  } finally {
    await proxy.set('pass');
    await t.close();
    await proxy.stop();
  }
}

/**
 * `fn` again while it fails on a pooled connection the fault left dead (a statement timeout, or the
 * 503 UNAVAILABLE an API request answers for it); up to 25 tries (the pool's size and then some).
 */
async function pastDeadConnections<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const text = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
      if (attempt >= 25 || !/PROTOCOL_SEQUENCE_TIMEOUT|inactivity timeout|\b503\b/i.test(text)) throw err;
    }
  }
}

describe('fault: primary down under order load', () => {
  it(
    'connections reset, then new ones black-holed: 503 UNAVAILABLE meanwhile, recovers by itself, no partial order',
    () =>
      runScenario(
        'primary down (reset, then new connections black-holed)',
        {},
        [
          [1500, 'reset'],
          [3500, 'blackhole'],
          [6500, 'pass'],
        ],
        9000,
      ),
    120_000,
  );

  it(
    'established connections black-holed: statements time out into 503, dead connections are replaced, no partial order',
    () =>
      runScenario(
        'primary black-holed on established connections',
        { DB_QUERY_TIMEOUT_MS: '1500' },
        [
          [1500, 'blackhole'],
          [5500, 'pass'],
        ],
        10000,
      ),
    120_000,
  );
});
