import { randomUUID } from 'node:crypto';
import { Connection, createConnection } from 'mysql2/promise';
import { newId } from '../../src/common/ids';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { WriteBatch, guardRowCount } from '../../src/infra/database/write-batch';
import { OrdersService } from '../../src/orders';
import { OutboxRelay } from '../../src/orders/testing';
import { TestApp, startApp } from '../support/test-app';

/**
 * The one write API's after-commit hooks (decision 0013), against the real primary: a hook runs
 * once, after the OUTERMOST commit (what another session can see is the proof), never after a
 * rollback, and a deadlock retry's failed attempt leaves no hook behind. The same rules on a
 * stubbed primary: src/infra/database/after-commit.spec.ts.
 */
describe('after-commit hooks on the real primary', () => {
  let t: TestApp;
  let db: DbRouter;
  /** Another session: sees only what is committed. */
  let observer: Connection;
  const probe = `after_commit_probe_${randomUUID().slice(0, 8)}`;

  const committed = async (tag: string): Promise<string[]> => {
    const [rows] = await observer.query(`SELECT v FROM ${probe} WHERE tag = ? ORDER BY id`, [tag]);
    return (rows as { v: string }[]).map((r) => r.v);
  };
  const insert = (tag: string, v: string) =>
    db.execute(`INSERT INTO ${probe} (tag, v) VALUES (?, ?)`, [tag, v]);

  beforeAll(async () => {
    // A worker-less instance: the relay only counts nudges here (other suites' relays may publish the rows).
    t = await startApp({ APP_ROLE: 'api' });
    db = t.app.get(DbRouter);
    const p = t.config.db.primary;
    observer = await createConnection({
      host: p.host,
      port: p.port,
      user: p.user,
      password: p.password,
      database: p.database,
    });
    await db.execute(
      `CREATE TABLE ${probe} (id INT AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL, v VARCHAR(64) NOT NULL) ENGINE=InnoDB`,
    );
  });

  afterAll(async () => {
    await db?.execute(`DROP TABLE IF EXISTS ${probe}`);
    await observer?.end();
    await t?.close();
  });

  it('a hook registered in a nested transaction runs once, after the outer commit, when the write is visible to others', async () => {
    const tag = randomUUID();
    const seenByHooks: string[][] = [];
    let seenWhenNestedReturned: string[] = [];
    let runs = 0;
    await db.transaction(async () => {
      await insert(tag, 'outer');
      await db.transaction(async () => {
        await insert(tag, 'nested');
        db.afterCommit(async () => {
          runs++;
          seenByHooks.push(await committed(tag));
        });
      });
      // The nested call has returned: its hook has not run and nothing is committed yet.
      seenWhenNestedReturned = await committed(tag);
      expect(runs).toBe(0);
    });
    expect(seenWhenNestedReturned).toEqual([]);
    expect(runs).toBe(1);
    expect(seenByHooks).toEqual([['outer', 'nested']]);
  });

  it('a transaction that rolls back runs none of its hooks, nested ones included', async () => {
    const tag = randomUUID();
    let runs = 0;
    await expect(
      db.transaction(async () => {
        await insert(tag, 'written');
        db.afterCommit(() => runs++);
        await db.transaction(async () => {
          db.afterCommit(() => runs++);
        });
        throw new Error('a later line was short of stock');
      }),
    ).rejects.toThrow('a later line was short of stock');
    expect(runs).toBe(0);
    expect(await committed(tag)).toEqual([]);
  });

  it("a real deadlock: the victim's failed attempt leaves no hook, each transaction's hook runs once for the attempt that committed", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await insert(a, '0');
    await insert(b, '0');
    const hooks: string[] = [];
    const attempts = { t1: 0, t2: 0 };
    // Each transaction locks its first row, waits until the other has too, then wants the other's:
    // InnoDB picks a victim (ER_LOCK_DEADLOCK), which DbRouter re-runs.
    let firstLocks = 0;
    let bothLocked!: () => void;
    const both = new Promise<void>((r) => (bothLocked = r));
    const run = (name: 't1' | 't2', first: string, second: string) =>
      db.transaction(async (em) => {
        const n = ++attempts[name];
        db.afterCommit(() => hooks.push(`${name} attempt ${n}`));
        await em.query(`UPDATE ${probe} SET v = v + 1 WHERE tag = ?`, [first]);
        if (n === 1 && ++firstLocks === 2) bothLocked();
        if (n === 1) await both;
        await em.query(`UPDATE ${probe} SET v = v + 1 WHERE tag = ?`, [second]);
      });
    await Promise.all([run('t1', a, b), run('t2', b, a)]);
    // One of them was the victim and ran twice; every transaction's effect committed once.
    expect(attempts.t1 + attempts.t2).toBe(3);
    expect(await committed(a)).toEqual(['2']);
    expect(await committed(b)).toEqual(['2']);
    expect(hooks.sort()).toEqual([`t1 attempt ${attempts.t1}`, `t2 attempt ${attempts.t2}`].sort());
  });

  it('a WriteBatch runs its hooks after its COMMIT, and none when a guard rolls it back', async () => {
    const tag = randomUUID();
    const seen: string[][] = [];
    const ok = new WriteBatch()
      .add({ sql: `INSERT INTO ${probe} (tag, v) VALUES (?, ?)`, params: [tag, 'batched'] })
      .afterCommit(async () => void seen.push(await committed(tag)));
    await db.commitBatch(ok);
    expect(seen).toEqual([['batched']]);

    const failTag = randomUUID();
    let runs = 0;
    const failing = new WriteBatch()
      .add(
        { sql: `INSERT INTO ${probe} (tag, v) VALUES (?, ?)`, params: [failTag, 'first'] },
        // Matches no row, so the guarded insert after it fails and the batch rolls back.
        { sql: `UPDATE ${probe} SET v = v WHERE tag = ?`, params: [randomUUID()] },
        { sql: `INSERT INTO ${probe} (tag, v) VALUES (?, ${guardRowCount})`, params: [failTag, 'guarded'] },
      )
      .afterCommit(() => runs++);
    await expect(db.commitBatch(failing, { retries: 0 })).rejects.toMatchObject({
      code: 'ER_BAD_NULL_ERROR',
    });
    expect(runs).toBe(0);
    expect(await committed(failTag)).toEqual([]);
  });

  it("a failing hook is logged, not the caller's error: the committed write answers as committed", async () => {
    const tag = randomUUID();
    const after: string[] = [];
    const result = await db.transaction(async () => {
      await insert(tag, 'kept');
      db.afterCommit(() => Promise.reject(new Error('the mail queue is down')));
      db.afterCommit(() => after.push('next hook'));
      return 'created';
    });
    expect(result).toBe('created');
    expect(after).toEqual(['next hook']);
    expect(await committed(tag)).toEqual(['kept']);
  });

  it('flash-sale orders created inside the persistence transaction nudge the outbox relay only after that outer commit', async () => {
    const relay = t.app.get(OutboxRelay);
    const orders = t.app.get(OrdersService);
    const nudge = jest.spyOn(relay, 'nudge');
    const reservationId = newId();
    let nudgesBeforeOuterCommit = -1;
    let orderId: string | undefined;
    try {
      await db.transaction(async () => {
        const ids = await orders.createFlashSaleOrders([
          {
            reservationId,
            userId: newId(),
            flashSaleId: newId(),
            sku: `AFTER-COMMIT-${reservationId.slice(-8)}`,
            quantity: 1,
            unitPrice: 100,
            currency: 'EUR',
            productName: 'probe',
          },
        ]);
        orderId = ids.get(reservationId);
        nudgesBeforeOuterCommit = nudge.mock.calls.length;
      });
      expect(orderId).toBeDefined();
      expect(nudgesBeforeOuterCommit).toBe(0);
      expect(nudge).toHaveBeenCalledTimes(1);
      const [rows] = await observer.query('SELECT type FROM outbox WHERE aggregate_id = ?', [orderId]);
      expect(rows).toEqual([{ type: 'order.created' }]);
    } finally {
      nudge.mockRestore();
    }
  });
});
