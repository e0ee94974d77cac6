/**
 * The batch path's direct use of a pooled mysql2 connection (DbRouter.commitBatch bypasses
 * TypeORM's query runner to send a whole batch as one multi-statement query).
 */
/** The pool connection under TypeORM (mysql2), for the batch path that bypasses its query runner. */
export interface RawConnection {
  query(
    opts: { sql: string; timeout?: number },
    params: unknown[] | undefined,
    cb: (err: Error | null, result: unknown) => void,
  ): { on(event: 'result', listener: () => void): unknown };
  release(): void;
  destroy(): void;
}

export function rawQuery(
  conn: RawConnection,
  sql: string,
  params: unknown[] | undefined,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let completed = 0;
    conn
      .query(timeoutMs > 0 ? { sql, timeout: timeoutMs } : { sql }, params, (err, result) => {
        if (!err) return resolve(result);
        // Which statement of a multi-statement query failed: mysql2 emits `result` once per
        // statement that completed (each of a batch's writes answers one OK packet).
        (err as Error & { completedStatements?: number }).completedStatements = completed;
        reject(err);
      })
      .on('result', () => completed++);
  });
}

/** mysql2's client-side query timeout: the statement's outcome on the server is unknown. */
export const isTimeout = (err: unknown): boolean =>
  (err as { code?: string })?.code === 'PROTOCOL_SEQUENCE_TIMEOUT';
