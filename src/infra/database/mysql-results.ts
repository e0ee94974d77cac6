/**
 * Reading what mysql2 answers, in one place (services, repositories and the batch path used to
 * carry their own copies).
 */

/**
 * Rows an INSERT/UPDATE/DELETE affected. mysql2 connects with CLIENT_FOUND_ROWS, so for an
 * UPDATE this is the rows its WHERE matched: 1 means "the condition held". TypeORM's `query()`
 * answers the OkPacket itself; some of its drivers answer `[rows, affected]`.
 */
export function affected(res: unknown): number {
  if (Array.isArray(res)) return Number(res[1] ?? 0);
  return Number((res as { affectedRows?: number } | undefined)?.affectedRows ?? 0);
}

/** A unique or primary key refused the write (raw mysql2 error, or TypeORM's QueryFailedError around one). */
export function isDuplicate(err: unknown): err is { code?: string; sqlMessage?: string; message: string } {
  const e = err as { code?: string; driverError?: { code?: string } } | undefined;
  return (e?.code ?? e?.driverError?.code) === 'ER_DUP_ENTRY';
}

/** Runs an INSERT; false when a unique or primary key refused it (any other error fails). */
export async function unlessDuplicate(insert: () => Promise<unknown>): Promise<boolean> {
  try {
    await insert();
    return true;
  } catch (err) {
    if (isDuplicate(err)) return false;
    throw err;
  }
}

/** Runs a write; a unique or primary key refusing it fails with `taken()` (the domain's conflict) instead. */
export async function duplicateAs<T>(write: Promise<T>, taken: () => Error): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (isDuplicate(err)) throw taken();
    throw err;
  }
}
