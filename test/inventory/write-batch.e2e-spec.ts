import { randomUUID } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { WriteBatch } from '../../src/infra/database/write-batch';
import { InsufficientStockError, InventoryService } from '../../src/inventory';
import { MailService } from '../../src/notifications';
import { TestApp, startApp } from '../support/test-app';

const sku = (name: string) => `${name}-${randomUUID().slice(0, 8)}`.toUpperCase();

/**
 * DbRouter.commitBatch on real MySQL: all of a batch or none of it, whatever fails where, and a
 * pool that stays healthy after failures (a connection left inside an open transaction would
 * hold its row locks and poison the next request that gets it).
 */
describe('write batches: one round trip, all or nothing', () => {
  let t: TestApp;
  let db: DbRouter;
  let inventory: InventoryService;
  const probe = `batch_probe_${randomUUID().slice(0, 8)}`;
  const rows = async (tag: string): Promise<string[]> =>
    (
      (await db.primaryReader().query(`SELECT v FROM ${probe} WHERE tag = ? ORDER BY seq`, [tag])) as {
        v: string;
      }[]
    ).map((r) => r.v);
  const insert = (tag: string, v: string, id: string = randomUUID()) => ({
    sql: `INSERT INTO ${probe} (id, tag, v) VALUES (?, ?, ?)`,
    params: [id, tag, v],
  });

  beforeAll(async () => {
    // A small pool: leaked or half-open connections would show as hangs or foreign rows below.
    t = await startApp({ DB_POOL_SIZE: '3' });
    db = t.app.get(DbRouter);
    inventory = t.app.get(InventoryService);
    await db.execute(
      `CREATE TABLE ${probe} (seq INT AUTO_INCREMENT PRIMARY KEY, id CHAR(36) NOT NULL UNIQUE, tag VARCHAR(64) NOT NULL, v TEXT NOT NULL) ENGINE=InnoDB`,
    );
  });
  afterAll(async () => {
    await db.execute(`DROP TABLE IF EXISTS ${probe}`);
    await t.close();
  });

  it('commits every statement and then runs the after-commit hooks', async () => {
    const tag = randomUUID();
    const hook = jest.fn();
    const batch = new WriteBatch()
      .add(insert(tag, 'a'), insert(tag, 'b'), insert(tag, 'c'))
      .afterCommit(hook);
    await db.commitBatch(batch);
    expect(await rows(tag)).toEqual(['a', 'b', 'c']);
    expect(hook).toHaveBeenCalledTimes(1);
  });

  it('stores parameters literally, including SQL and statement separators', async () => {
    const tag = randomUUID();
    const hostile = `x'); DROP TABLE ${probe}; -- ?;`;
    await db.commitBatch(new WriteBatch().add(insert(tag, hostile), insert(tag, '?')));
    expect(await rows(tag)).toEqual([hostile, '?']);
  });

  it('rolls back the statements before one that fails, and the pool keeps working', async () => {
    const tag = randomUUID();
    const dup = randomUUID();
    for (let i = 0; i < 10; i++) {
      const hook = jest.fn();
      const batch = new WriteBatch()
        .add(insert(tag, `first-${i}`), insert(tag, 'dup', dup), insert(tag, 'dup again', dup))
        .afterCommit(hook);
      await expect(db.commitBatch(batch)).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
      expect(hook).not.toHaveBeenCalled();
    }
    expect(await rows(tag)).toEqual([]);
    // Every pooled connection (3) was used by a failed batch; none is left in a transaction.
    const ok = randomUUID();
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => db.commitBatch(new WriteBatch().add(insert(ok, `v${i}`)))),
    );
    expect((await rows(ok)).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
  });

  it('rolls back everything when a check fails, and throws the check’s error', async () => {
    const tag = randomUUID();
    const s = sku('batch');
    await inventory.ensureStock(s, 2);
    const batch = new WriteBatch().add(insert(tag, 'order row'));
    inventory.reserveIn(batch, [{ sku: s, quantity: 3 }], { orderId: randomUUID() });
    const err = await db.commitBatch(batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientStockError);
    expect((err as InsufficientStockError).details).toEqual({ sku: s, requested: 3, available: 2 });
    expect(await rows(tag)).toEqual([]);
    expect(await inventory.get(s)).toMatchObject({ onHand: 2, reserved: 0 });
    const [{ n }] = await db
      .primaryReader()
      .query('SELECT COUNT(*) AS n FROM inventory_movements WHERE sku = ?', [s]);
    expect(Number(n)).toBe(1); // the initial stock only: the reserve ledger row was rolled back
  });

  it('fails the whole batch for a SKU that has no stock row (the guard counts matched rows, not errors)', async () => {
    const tag = randomUUID();
    const batch = new WriteBatch().add(insert(tag, 'order row'));
    inventory.reserveIn(batch, [{ sku: sku('nostock'), quantity: 1 }], { orderId: randomUUID() });
    await expect(db.commitBatch(batch)).rejects.toBeInstanceOf(InsufficientStockError);
    expect(await rows(tag)).toEqual([]);
  });

  it('names the line that was short when a multi-line reservation fails, and keeps none of the others', async () => {
    const tag = randomUUID();
    const [a, b, c] = [sku('a'), sku('b'), sku('c')].sort();
    for (const s of [a, b, c]) await inventory.ensureStock(s, 3);
    const batch = new WriteBatch().add(insert(tag, 'order row'));
    inventory.reserveIn(
      batch,
      [
        { sku: c, quantity: 3 },
        { sku: a, quantity: 3 },
        { sku: b, quantity: 4 },
      ],
      { orderId: randomUUID() },
    );
    const err = await db.commitBatch(batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientStockError);
    expect((err as InsufficientStockError).details).toEqual({ sku: b, requested: 4, available: 3 });
    for (const s of [a, b, c]) expect(await inventory.get(s)).toMatchObject({ onHand: 3, reserved: 0 });
    expect(await rows(tag)).toEqual([]);
  });

  it('with a client-side check, commits only after it passed (second round trip) and rolls back when it throws', async () => {
    const tag = randomUUID();
    const failing = new WriteBatch().add(insert(tag, 'kept?'), {
      sql: `UPDATE ${probe} SET v = 'x' WHERE tag = ?`,
      params: [`${tag}-none`],
      check: (res) => {
        if (res.affectedRows !== 1) throw new Error('claim lost');
      },
    });
    await expect(db.commitBatch(failing)).rejects.toThrow('claim lost');
    expect(await rows(tag)).toEqual([]);
    const passing = new WriteBatch().add(insert(tag, 'first'), {
      sql: `UPDATE ${probe} SET v = 'second' WHERE tag = ?`,
      params: [tag],
      check: (res) => {
        if (res.affectedRows !== 1) throw new Error('claim lost');
      },
    });
    await db.commitBatch(passing);
    expect(await rows(tag)).toEqual(['second']);
  });

  it('gives up on a held row lock on the server, before the client timeout, so a failed batch never commits later', async () => {
    const tag = randomUUID();
    const s = sku('locked');
    await inventory.ensureStock(s, 5);
    // Another transaction holds the stock row until `release` is called.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.transaction(
      async (em) => {
        await em.query('SELECT * FROM inventory_items WHERE sku = ? FOR UPDATE', [s]);
        locked();
        await released;
      },
      { retries: 0 },
    );
    try {
      await isLocked;
      const batch = new WriteBatch().add(insert(tag, 'waits'));
      inventory.reserveIn(batch, [{ sku: s, quantity: 1 }], { orderId: randomUUID() });
      const started = Date.now();
      await expect(db.commitBatch(batch, { retries: 0 })).rejects.toMatchObject({
        code: 'ER_LOCK_WAIT_TIMEOUT',
      });
      expect(Date.now() - started).toBeLessThan(t.config.db.queryTimeoutMs);
    } finally {
      release();
      await holder;
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(await rows(tag)).toEqual([]);
    expect(await inventory.get(s)).toMatchObject({ reserved: 0 });
  });

  it('never oversells: 100 concurrent batches for 30 units → 30 commit, 70 roll back whole', async () => {
    const tag = randomUUID();
    const s = sku('hot');
    await inventory.ensureStock(s, 30);
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => {
        const batch = new WriteBatch().add(insert(tag, `order-${i}`));
        inventory.reserveIn(batch, [{ sku: s, quantity: 1 }], { orderId: randomUUID() });
        return db.commitBatch(batch);
      }),
    );
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(70);
    for (const f of failed) expect(f.reason).toBeInstanceOf(InsufficientStockError);
    expect(await rows(tag)).toHaveLength(30);
    expect(await inventory.get(s)).toMatchObject({ onHand: 30, reserved: 30, available: 0 });
    const [{ n }] = await db
      .primaryReader()
      .query("SELECT COUNT(*) AS n FROM inventory_movements WHERE sku = ? AND reason = 'reserve'", [s]);
    expect(Number(n)).toBe(30);
  });

  it('sends the low-stock alert only after the batch committed, once', async () => {
    const mail = t.app.get(MailService);
    const sent = jest.spyOn(mail, 'send').mockResolvedValue(undefined);
    try {
      const s = sku('low');
      await inventory.ensureStock(s, 6, 5);
      // crosses the threshold, but the batch fails afterwards: nothing is sent
      const failing = new WriteBatch();
      inventory.reserveIn(failing, [{ sku: s, quantity: 2 }], { orderId: randomUUID() });
      const dup = randomUUID();
      failing.add(insert('x', 'a', dup), insert('x', 'b', dup));
      await expect(db.commitBatch(failing)).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).not.toHaveBeenCalled();
      const ok = new WriteBatch();
      inventory.reserveIn(ok, [{ sku: s, quantity: 2 }], { orderId: randomUUID() });
      await db.commitBatch(ok);
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).toHaveBeenCalledTimes(1);
      expect(sent).toHaveBeenCalledWith(
        expect.objectContaining({ template: 'low-stock', data: { sku: s, available: 4, threshold: 5 } }),
      );
    } finally {
      sent.mockRestore();
    }
  });

  it('refuses to run inside a transaction (that one’s statements run one by one)', async () => {
    await expect(
      db.transaction(() => db.commitBatch(new WriteBatch().add(insert('y', 'z')))),
    ).rejects.toThrow(/inside a transaction/);
  });
});
