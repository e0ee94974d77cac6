import { AfterCommitHook, AfterCommitHooks, AfterCommitOptions } from './after-commit';

/** What MySQL answers for an INSERT/UPDATE/DELETE (mysql2's ResultSetHeader). */
export interface WriteResult {
  affectedRows: number;
  insertId: number | string;
}

/** Something statements can be run on: an EntityManager, a QueryRunner, a DataSource. */
export interface Querier {
  query(sql: string, params?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * One parameterized write.
 *
 * Its outcome is judged in one of two ways:
 * - `check` (client side): runs on the result while the transaction is still open (it may read
 *   on it through `tx`); throwing rolls everything back and is what the caller gets. A batch
 *   with a check needs a second round trip for its COMMIT.
 * - a server-side guard (see `guardRowCount`): the statement itself fails when the one before
 *   it did not affect exactly one row, so MySQL stops the batch before its COMMIT. `explain`
 *   turns that failure into the caller's error; it is called for the statement that failed
 *   (in a batch after the rollback, otherwise on the open transaction).
 *
 * `onResult` reads the statement's result (for values the statement computed, such as a counter
 * it returned through LAST_INSERT_ID). It is a reader, not a side effect: it runs for every
 * execution of the statement — in a batch after the COMMIT, in a `transaction` callback right
 * after the statement, before the COMMIT (once per attempt) — and should only fill variables
 * that an after-commit hook then uses.
 */
export interface Statement {
  sql: string;
  params: unknown[];
  check?: (result: WriteResult, tx: Querier) => void | Promise<void>;
  explain?: (err: unknown, read: Querier) => Promise<Error | undefined>;
  onResult?: (result: WriteResult) => void;
}

/**
 * `IF(ROW_COUNT() = 1, ?, NULL)` — a value for a NOT NULL column of a single-row INSERT that
 * becomes NULL, and so fails the INSERT (ER_BAD_NULL_ERROR on MySQL and MariaDB, in every SQL
 * mode for single-row inserts), when the statement just before it did not affect exactly one
 * row. The connection reports matched rows (mysql2 sets CLIENT_FOUND_ROWS).
 */
export const guardRowCount = 'IF(ROW_COUNT() = 1, ?, NULL)';

/** Whether `err` is the failure of a `guardRowCount` value in `column`. */
export function isGuardFailure(err: unknown, column: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'ER_BAD_NULL_ERROR' && !!e.message?.includes(`'${column}'`);
}

/**
 * The writes of one transaction, collected first and then sent to the primary together
 * (DbRouter.commitBatch): `START TRANSACTION`, every statement and `COMMIT` in one round trip
 * (server-side guards decide), or two when a statement has a client-side `check`. Running them
 * one by one costs a round trip each; on this kind of machine every statement sent costs the
 * app ~0.1–0.3 ms (a socket write that wakes a MySQL thread), and a hot row stays locked until
 * the COMMIT arrives. See docs/decisions/0011-write-batches.md.
 *
 * Statements must not contain `?` other than as placeholders (mysql2 formats them client-side)
 * and must not end in `;`.
 */
export class WriteBatch {
  readonly statements: Statement[] = [];
  /** Run by DbRouter.commitBatch after the COMMIT, like a transaction's (see after-commit.ts). */
  readonly hooks = new AfterCommitHooks();

  add(...statements: Statement[]): this {
    this.statements.push(...statements);
    return this;
  }

  /**
   * Runs once the batch has committed, never after a rollback; `commitBatch` awaits it unless
   * `background`, and logs its failure (same rules as DbRouter.afterCommit).
   */
  afterCommit(hook: AfterCommitHook, opts?: AfterCommitOptions): this {
    this.hooks.add(hook, opts);
    return this;
  }
}

/** Runs statements one at a time on an open transaction (the path for code that already has one). */
export async function runStatements(tx: Querier, statements: Statement[]): Promise<void> {
  for (const s of statements) {
    let result: WriteResult;
    try {
      result = (await tx.query(s.sql, s.params)) as WriteResult;
    } catch (err) {
      throw (await s.explain?.(err, tx)) ?? err;
    }
    s.onResult?.(result);
    if (s.check) await s.check(result, tx);
  }
}
