import { randomUUID } from 'node:crypto';
import { requestContext } from '../../src/common/context/request-context';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { InsufficientStockError, InventoryService, StockLine } from '../../src/inventory';
import { TestApp, eventually, startApp } from '../support/test-app';

const sku = (name: string) => `${name}-${randomUUID().slice(0, 8)}`.toUpperCase();

describe('inventory: reservations never oversell and never deadlock', () => {
  let t: TestApp;
  let inventory: InventoryService;
  let db: DbRouter;
  /** One order transaction as the orders module runs it (no deadlock retry, to prove none is needed). */
  const reserveInTx = (lines: StockLine[], retries = 3) =>
    requestContext.run({ requestId: `t-${randomUUID()}` }, () =>
      db.transaction(() => inventory.reserve(lines, { orderId: randomUUID() }), { retries }),
    );

  beforeAll(async () => {
    t = await startApp({ DB_POOL_SIZE: '30' });
    inventory = t.app.get(InventoryService);
    db = t.app.get(DbRouter);
  });
  afterAll(() => t.close());

  it('lets exactly 50 of 200 concurrent single-unit reservations of a 50-unit SKU succeed', async () => {
    const s = sku('hot');
    await inventory.ensureStock(s, 50);
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => reserveInTx([{ sku: s, quantity: 1 }])),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const rejected = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    expect(ok).toBe(50);
    expect(rejected).toHaveLength(150);
    for (const err of rejected) {
      expect(err).toBeInstanceOf(InsufficientStockError);
      expect(err.code).toBe('INSUFFICIENT_STOCK');
      expect(err.details).toEqual({ sku: s, requested: 1, available: 0 });
    }
    expect(await inventory.get(s)).toEqual({
      sku: s,
      onHand: 50,
      reserved: 50,
      available: 0,
      lowStockThreshold: 5,
    });
    const [{ n }] = await db
      .primaryReader()
      .query(`SELECT COUNT(*) AS n FROM inventory_movements WHERE sku = ? AND reason = 'reserve'`, [s]);
    expect(Number(n)).toBe(50);
  });

  it('runs multi-SKU reservations given in opposite SKU orders concurrently without a deadlock surfacing (no retries)', async () => {
    const a = sku('a');
    const b = sku('b');
    const c = sku('c');
    for (const s of [a, b, c]) await inventory.ensureStock(s, 10_000);
    const orders = Array.from({ length: 120 }, (_, i) => {
      const lines = [
        { sku: a, quantity: 1 },
        { sku: b, quantity: 2 },
        { sku: c, quantity: 1 },
      ];
      return i % 2 ? lines : lines.reverse();
    });
    const results = await Promise.allSettled(orders.map((lines) => reserveInTx(lines, 0)));
    const errors = results
      .filter((r) => r.status === 'rejected')
      .map((r) => String((r as PromiseRejectedResult).reason));
    expect(errors).toEqual([]);
    expect((await inventory.get(a))!.reserved).toBe(120);
    expect((await inventory.get(b))!.reserved).toBe(240);
    expect((await inventory.get(c))!.reserved).toBe(120);
  });

  it('reserves all lines of an order or none of them', async () => {
    const a = sku('all');
    const b = sku('none');
    await inventory.ensureStock(a, 5);
    await inventory.ensureStock(b, 1);
    await expect(
      reserveInTx([
        { sku: a, quantity: 2 },
        { sku: b, quantity: 2 },
      ]),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { sku: b, requested: 2, available: 1 } });
    expect((await inventory.get(a))!.reserved).toBe(0);
    await expect(reserveInTx([{ sku: sku('unknown'), quantity: 1 }])).rejects.toBeInstanceOf(
      InsufficientStockError,
    );
  });

  it('merges duplicate lines per SKU and rejects non-positive quantities', async () => {
    const s = sku('merge');
    await inventory.ensureStock(s, 3);
    await expect(
      reserveInTx([
        { sku: s, quantity: 2 },
        { sku: s, quantity: 2 },
      ]),
    ).rejects.toMatchObject({ details: { sku: s, requested: 4, available: 3 } });
    await expect(reserveInTx([{ sku: s, quantity: 0 }])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('commits, releases and restocks with exact arithmetic, never below zero, and records every movement', async () => {
    const s = sku('life');
    const orderId = randomUUID();
    const ref = { orderId };
    await inventory.ensureStock(s, 10, 2);
    await inventory.ensureStock(s, 999); // existing rows are left alone
    await db.transaction(() => inventory.reserve([{ sku: s, quantity: 3 }], ref));
    expect(await inventory.get(s)).toMatchObject({ onHand: 10, reserved: 3, available: 7 });
    await inventory.commit([{ sku: s, quantity: 2 }], ref);
    expect(await inventory.get(s)).toMatchObject({ onHand: 8, reserved: 1, available: 7 });
    await inventory.release([{ sku: s, quantity: 1 }], ref);
    expect(await inventory.get(s)).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
    await expect(inventory.release([{ sku: s, quantity: 1 }], ref)).rejects.toMatchObject({
      code: 'INVENTORY_CONFLICT',
    });
    await expect(inventory.commit([{ sku: s, quantity: 1 }], ref)).rejects.toMatchObject({
      code: 'INVENTORY_CONFLICT',
    });
    await inventory.restock([{ sku: s, quantity: 2 }], ref);
    expect(await inventory.get(s)).toEqual({
      sku: s,
      onHand: 10,
      reserved: 0,
      available: 10,
      lowStockThreshold: 2,
    });
    const ledger = await db
      .primaryReader()
      .query(
        'SELECT reason, delta_on_hand AS dOn, delta_reserved AS dRes, order_id AS orderId FROM inventory_movements WHERE sku = ? ORDER BY id',
        [s],
      );
    expect(ledger.map((r: any) => [r.reason, r.dOn, r.dRes, r.orderId])).toEqual([
      ['initial', 10, 0, null],
      ['reserve', 0, 3, orderId],
      ['commit', -2, -2, orderId],
      ['release', 0, -1, orderId],
      ['restock', 2, 0, orderId],
    ]);
    // availability() reads the replica: wait for replication, then unknown SKUs are simply absent.
    await eventually(async () => (await inventory.availability([s])).get(s) === 10);
    expect(await inventory.availability([s, 'NO-SUCH-SKU'])).toEqual(new Map([[s, 10]]));
  });

  it('adjusts onHand and threshold, refusing onHand below what is reserved', async () => {
    const s = sku('adj');
    await inventory.ensureStock(s, 10);
    await db.transaction(() => inventory.reserve([{ sku: s, quantity: 4 }], { orderId: randomUUID() }));
    await expect(inventory.adjust(s, { onHand: 3 })).rejects.toMatchObject({
      code: 'ON_HAND_BELOW_RESERVED',
    });
    expect(await inventory.adjust(s, { onHand: 4, lowStockThreshold: 1 })).toEqual({
      sku: s,
      onHand: 4,
      reserved: 4,
      available: 0,
      lowStockThreshold: 1,
    });
    expect(await inventory.adjust(s, { onHand: 4 })).toMatchObject({ onHand: 4 }); // unchanged value still matches
    await expect(inventory.adjust(sku('ghost'), { onHand: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
