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
 * One parameterized write. `check` judges its result: throwing (a domain error, typically)
 * rolls the whole transaction back and is what the caller gets. It runs while the transaction
 * is still open, so it may read on it through `tx` (e.g. to say how much stock there was).
 */
export interface Statement {
  sql: string;
  params: unknown[];
  check?: (result: WriteResult, tx: Querier) => void | Promise<void>;
}

/**
 * The writes of one transaction, collected first and then sent to the primary together
 * (DbRouter.commitBatch): `START TRANSACTION` and every statement in one round trip, the
 * checks, then `COMMIT` — two round trips however many statements, where running them one by
 * one costs one each. On this kind of machine every statement sent costs the app ~0.1–0.2 ms
 * of CPU (a socket write that wakes a MySQL thread), so a five-statement order saves most of
 * its database overhead this way. See docs/decisions/0011-write-batches.md.
 *
 * Statements must not contain `?` other than as placeholders (mysql2 formats them client-side)
 * and must not end in `;`.
 */
export class WriteBatch {
  readonly statements: Statement[] = [];
  private readonly hooks: (() => void)[] = [];

  add(...statements: Statement[]): this {
    this.statements.push(...statements);
    return this;
  }

  /** Runs once the batch has committed (never after a rollback); errors are the hook's to handle. */
  afterCommit(hook: () => void): this {
    this.hooks.push(hook);
    return this;
  }

  get committedHooks(): readonly (() => void)[] {
    return this.hooks;
  }
}

/** Runs statements one at a time on an open transaction (the path for code that already has one). */
export async function runStatements(tx: Querier, statements: Statement[]): Promise<void> {
  for (const s of statements) {
    const result = (await tx.query(s.sql, s.params)) as WriteResult;
    if (s.check) await s.check(result, tx);
  }
}
