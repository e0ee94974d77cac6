import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { IdempotencyInProgressError, IdempotencyKeyReusedError } from './order.errors';
import { affected } from './orders.repository';

/** Keys are honoured at least this long; older ones may be reused for new requests. */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;

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
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly db: DbRouter) {}

  /** Returns the stored response of a completed identical request, or undefined when this call owns the key. */
  async begin<T>(userId: string, key: string, hash: string): Promise<T | undefined> {
    const em = this.db.primary.manager;
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await em.query(
        `INSERT IGNORE INTO idempotency_keys (user_id, \`key\`, request_hash, status, created_at)
         VALUES (?, ?, ?, 'in_progress', ?)`,
        [userId, key, hash, new Date()],
      );
      if (affected(res) === 1) return undefined;
      const rows: KeyRow[] = await em.query(
        'SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE user_id = ? AND `key` = ?',
        [userId, key],
      );
      const row = rows[0];
      if (!row) continue; // abandoned meanwhile: claim again
      if (Date.now() - new Date(row.created_at).getTime() > IDEMPOTENCY_TTL_MS) {
        // Expired: delete only that old claim (a fresh one from a concurrent request stays).
        await em.query('DELETE FROM idempotency_keys WHERE user_id = ? AND `key` = ? AND created_at = ?', [
          userId,
          key,
          row.created_at,
        ]);
        continue;
      }
      if (row.request_hash !== hash) throw new IdempotencyKeyReusedError();
      if (row.status !== 'done') throw new IdempotencyInProgressError();
      return (typeof row.response === 'string' ? JSON.parse(row.response) : row.response) as T;
    }
    throw new IdempotencyInProgressError();
  }

  async complete(em: EntityManager, userId: string, key: string, response: unknown): Promise<void> {
    await em.query(
      "UPDATE idempotency_keys SET status = 'done', response = ? WHERE user_id = ? AND `key` = ?",
      [JSON.stringify(response), userId, key],
    );
  }

  async abandon(userId: string, key: string): Promise<void> {
    await this.db.primary.query(
      "DELETE FROM idempotency_keys WHERE user_id = ? AND `key` = ? AND status = 'in_progress'",
      [userId, key],
    );
  }

  /** Housekeeping: forget keys well past their retention. */
  async purge(olderThanMs = 2 * IDEMPOTENCY_TTL_MS): Promise<number> {
    const res = await this.db.primary.query('DELETE FROM idempotency_keys WHERE created_at < ? LIMIT 5000', [
      new Date(Date.now() - olderThanMs),
    ]);
    return affected(res);
  }
}
