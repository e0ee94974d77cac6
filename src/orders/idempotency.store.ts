import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DbRouter } from '../infra/database/db-router.service';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from './order.errors';
import { Statement } from '../infra/database/write-batch';
import { affected } from '../infra/database/mysql-results';

/** Keys are honoured at least this long; older ones may be reused for new requests. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/**
 * An `in_progress` claim older than this belongs to a request that died with its instance
 * (no request runs this long: transactions retry a few times within seconds). A retry takes
 * the key over instead of answering IDEMPOTENCY_IN_PROGRESS until the key expires.
 */
export const IDEMPOTENCY_STALE_CLAIM_MS = 60 * 1000;

/** What `begin` found: a completed identical request, or the claim this call now owns. */
export type Claim<T> = { done: T } | { claimedAt: Date };

interface KeyRow {
  request_hash: string;
  status: 'in_progress' | 'done';
  response: unknown;
  created_at: Date;
}

export const requestHash = (body: unknown): string =>
  createHash('sha256').update(JSON.stringify(body)).digest('hex');

/**
 * Idempotency keys per user, in MySQL. `begin` claims the key in its own short transaction
 * before the work starts (the primary key makes the claim atomic across instances); the
 * result is written by `complete` inside the work's transaction, so "order exists" and
 * "key is done" commit together. When the work fails, `abandon` frees the key for a retry.
 *
 * A crash between the claim and the work's commit leaves a claim nobody will complete: after
 * {@link IDEMPOTENCY_STALE_CLAIM_MS} a retry replaces it. The claim's time is its fencing token:
 * `complete` only completes the claim it made, so if the original request were somehow still
 * running, its transaction would fail instead of creating a second order for the key.
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly db: DbRouter) {}

  /** The stored response of a completed identical request, or the claim this call now owns. */
  async begin<T>(userId: string, key: string, hash: string): Promise<Claim<T>> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const claimedAt = new Date();
      const res = await this.db.execute(
        `INSERT IGNORE INTO idempotency_keys (user_id, \`key\`, request_hash, status, created_at)
         VALUES (?, ?, ?, 'in_progress', ?)`,
        [userId, key, hash, claimedAt],
      );
      if (affected(res) === 1) return { claimedAt };
      const rows: KeyRow[] = await this.db
        .primaryReader()
        .query(
          'SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE user_id = ? AND `key` = ?',
          [userId, key],
        );
      const row = rows[0];
      if (!row) continue; // abandoned meanwhile: claim again
      const age = Date.now() - new Date(row.created_at).getTime();
      if (age > IDEMPOTENCY_TTL_MS || (row.status !== 'done' && age > IDEMPOTENCY_STALE_CLAIM_MS)) {
        // Expired, or a dead request's claim: delete only that old row (a fresh claim from a
        // concurrent request has another created_at and stays).
        await this.db.execute(
          'DELETE FROM idempotency_keys WHERE user_id = ? AND `key` = ? AND created_at = ?',
          [userId, key, row.created_at],
        );
        continue;
      }
      if (row.request_hash !== hash) throw new IdempotencyKeyReusedError();
      if (row.status !== 'done') throw new IdempotencyInProgressError();
      return { done: (typeof row.response === 'string' ? JSON.parse(row.response) : row.response) as T };
    }
    throw new IdempotencyInProgressError();
  }

  /** Marks this call's claim done inside the work's transaction; throws (rolling it back) if the claim was taken over. */
  /** Stores the response under this call's claim; a claim taken over meanwhile fails the transaction. */
  completeStatement(userId: string, key: string, claimedAt: Date, response: unknown): Statement {
    return {
      sql: `UPDATE idempotency_keys SET status = 'done', response = ?
        WHERE user_id = ? AND \`key\` = ? AND created_at = ? AND status = 'in_progress'`,
      params: [JSON.stringify(response), userId, key, claimedAt],
      check: (res) => {
        if (affected(res) !== 1) throw new IdempotencyInProgressError();
      },
    };
  }

  /** Frees this call's claim after its work failed (a claim taken over by a retry is left alone). */
  async abandon(userId: string, key: string, claimedAt: Date): Promise<void> {
    await this.db.execute(
      "DELETE FROM idempotency_keys WHERE user_id = ? AND `key` = ? AND created_at = ? AND status = 'in_progress'",
      [userId, key, claimedAt],
    );
  }

  /** Housekeeping: forget keys well past their retention. */
  async purge(olderThanMs = 2 * IDEMPOTENCY_TTL_MS): Promise<number> {
    const res = await this.db.execute('DELETE FROM idempotency_keys WHERE created_at < ? LIMIT 5000', [
      new Date(Date.now() - olderThanMs),
    ]);
    return affected(res);
  }
}
