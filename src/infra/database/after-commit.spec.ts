import type { DataSource, EntityManager } from 'typeorm';
import { requestContext } from '../../common/context/request-context';
import type { AppConfig } from '../config/app-config';
import { AfterCommitHooks, runAfterCommit } from './after-commit';
import { DbRouter } from './db-router.service';
import type { RecentWriters } from './recent-writers';
import { WriteBatch } from './write-batch';

/**
 * The rules of the one write API (decision 0013), on a DbRouter whose primary is a stub that
 * records "commit" and "rollback" in a shared log. The same rules against the real primary:
 * test/foundation/after-commit.e2e-spec.ts.
 */
function routerWith(opts: { failAttempts?: { code: string }[] } = {}) {
  const log: string[] = [];
  const failures = [...(opts.failAttempts ?? [])];
  const em = { query: () => Promise.resolve([]) } as unknown as EntityManager;
  const primary = {
    entityMetadatas: [],
    manager: em,
    async transaction(_isolation: unknown, run: (em: EntityManager) => Promise<unknown>) {
      let result: unknown;
      try {
        result = await run(em);
      } catch (err) {
        log.push('rollback');
        throw err;
      }
      const failure = failures.shift();
      if (failure) {
        // The server gave up on this attempt (a deadlock found at the end): nothing committed.
        log.push('rollback');
        throw Object.assign(new Error(failure.code), failure);
      }
      log.push('commit');
      return result;
    },
  } as unknown as DataSource;
  const config = { db: { replicas: [], queryTimeoutMs: 0 } } as unknown as AppConfig;
  const recent = { isRecent: () => false, noteWrite: () => Promise.resolve() } as unknown as RecentWriters;
  return { db: new DbRouter(primary, config, recent), log };
}

describe('DbRouter.afterCommit', () => {
  it('runs a hook once, after the outermost commit, also when registered in a nested transaction', async () => {
    const { db, log } = routerWith();
    const result = await db.transaction(async () => {
      db.afterCommit(() => log.push('outer hook'));
      await db.transaction(async () => {
        db.afterCommit(() => log.push('nested hook'));
        log.push('nested done');
      });
      log.push('outer done');
      return 42;
    });
    expect(result).toBe(42);
    expect(log).toEqual(['nested done', 'outer done', 'commit', 'outer hook', 'nested hook']);
  });

  it('never runs the hooks of a transaction that rolled back', async () => {
    const { db, log } = routerWith();
    await expect(
      db.transaction(async () => {
        db.afterCommit(() => log.push('hook'));
        throw new Error('business rule');
      }),
    ).rejects.toThrow('business rule');
    expect(log).toEqual(['rollback']);
  });

  it("drops the hooks of a deadlock retry's failed attempt: only the committed attempt's run", async () => {
    const { db, log } = routerWith({ failAttempts: [{ code: 'ER_LOCK_DEADLOCK' }] });
    let attempt = 0;
    await db.transaction(async () => {
      const n = ++attempt;
      db.afterCommit(() => log.push(`hook of attempt ${n}`));
    });
    expect(attempt).toBe(2);
    expect(log).toEqual(['rollback', 'commit', 'hook of attempt 2']);
  });

  it('awaits async hooks before the outermost call returns; background ones only start', async () => {
    const { db, log } = routerWith();
    let finishBackground!: () => void;
    await db.transaction(async () => {
      db.afterCommit(async () => {
        await new Promise((r) => setTimeout(r, 5));
        log.push('awaited hook done');
      });
      db.afterCommit(
        () =>
          new Promise<void>((r) => {
            finishBackground = () => {
              log.push('background hook done');
              r();
            };
          }),
        { background: true },
      );
    });
    log.push('returned');
    expect(log).toEqual(['commit', 'awaited hook done', 'returned']);
    // Shutdown waits for the background hook.
    const shutdown = db.beforeApplicationShutdown().then(() => log.push('shutdown done'));
    await new Promise((r) => setTimeout(r, 5));
    expect(log).not.toContain('shutdown done');
    finishBackground();
    await shutdown;
    expect(log.slice(-2)).toEqual(['background hook done', 'shutdown done']);
  });

  it('logs a failing hook and still answers with the committed result; later hooks still run', async () => {
    const { db, log } = routerWith();
    const errors = jest.spyOn(
      (db as unknown as { logger: { error: (msg: string) => void } }).logger,
      'error',
    );
    errors.mockImplementation(() => undefined);
    const result = await db.transaction(async () => {
      db.afterCommit(() => {
        throw new Error('mail queue down');
      });
      db.afterCommit(() => Promise.reject(new Error('provider down')));
      db.afterCommit(() => log.push('third hook'));
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(log).toEqual(['commit', 'third hook']);
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringContaining('mail queue down'),
      expect.stringContaining('provider down'),
    ]);
  });

  it('refuses a hook outside a transaction (it would run before any commit)', () => {
    const { db } = routerWith();
    expect(() => db.afterCommit(() => undefined)).toThrow(/outside a transaction/);
    expect(() => requestContext.run({ requestId: 'r' }, () => db.afterCommit(() => undefined))).toThrow(
      /outside a transaction/,
    );
  });

  it('a WriteBatch refuses to be committed inside a transaction (its hooks would run before the outer commit)', async () => {
    const { db } = routerWith();
    await expect(
      db.transaction(() => db.commitBatch(new WriteBatch().add({ sql: 'SELECT 1', params: [] }))),
    ).rejects.toThrow(/inside a transaction/);
  });
});

describe('runAfterCommit', () => {
  it('runs each hook at most once, in order, even when the list is run twice', async () => {
    const hooks = new AfterCommitHooks();
    const seen: number[] = [];
    hooks.add(() => seen.push(1));
    hooks.add(() => seen.push(2));
    const track = jest.fn();
    await runAfterCommit(hooks, () => undefined, track);
    await runAfterCommit(hooks, () => undefined, track);
    expect(seen).toEqual([1, 2]);
    expect(track).not.toHaveBeenCalled(); // synchronous hooks leave nothing to wait for
  });

  it('tracks every hook that returned a promise, awaited or not', async () => {
    const hooks = new AfterCommitHooks();
    hooks.add(() => Promise.resolve('a'));
    hooks.add(() => Promise.resolve('b'), { background: true });
    const tracked: Promise<unknown>[] = [];
    await runAfterCommit(
      hooks,
      () => undefined,
      (p) => tracked.push(p),
    );
    expect(tracked).toHaveLength(2);
  });
});
