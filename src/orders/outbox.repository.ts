import { Injectable } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';
import type { Statement } from '../infra/database/write-batch';
import type { OrderEvent } from './order-events';

/** An outbox row with its event (MySQL answers the JSON column as a string or as parsed JSON). */
export interface OutboxRow {
  id: string;
  event: OrderEvent;
}

/** An owed row given up by the retention: what the log keeps of it. */
export interface GivenUpRow {
  id: string;
  type: string;
  aggregateId: string;
  payload: string;
}

const eventOf = (payload: string | OrderEvent): OrderEvent =>
  typeof payload === 'string' ? (JSON.parse(payload) as OrderEvent) : payload;

/**
 * Every statement on `outbox` (decision 0020): the INSERT of a state change's events (a
 * Statement for the caller's transaction or WriteBatch), the relay's reads and marks, the
 * consumer's `handled_at`, and the retention's deletes. Writes run on the primary, in the open
 * transaction if any; reads read the primary.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly db: DbRouter) {}

  /** The one INSERT that stores `events` (in the transaction of the change they describe). */
  insertStatement(events: OrderEvent[], now: Date): Statement {
    const sql = `INSERT INTO outbox (id, aggregate_id, type, payload, created_at) VALUES ${events
      .map(() => '(?, ?, ?, ?, ?)')
      .join(', ')}`;
    const params = events.flatMap((e) => [e.eventId, e.orderId, e.type, JSON.stringify(e), now]);
    return { sql, params };
  }

  /** Rows not published yet, oldest first. */
  async unpublished(limit: number): Promise<OutboxRow[]> {
    const rows: { id: string; payload: string | OrderEvent }[] = await this.db
      .primaryReader()
      .query('SELECT id, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?', [limit]);
    return rows.map((r) => ({ id: r.id, event: eventOf(r.payload) }));
  }

  async markPublished(ids: string[]): Promise<void> {
    await this.db.execute(
      'UPDATE outbox SET published_at = NOW(3) WHERE id IN (?) AND published_at IS NULL',
      [ids],
    );
  }

  /** Owed rows published more than `publishedMs` ago and created less than `createdMs` ago, longest waiting first. */
  async owedPublishedBefore(publishedMs: number, createdMs: number, limit: number): Promise<OutboxRow[]> {
    const rows: { id: string; payload: string | OrderEvent }[] = await this.db.primaryReader().query(
      `SELECT id, payload FROM outbox
        WHERE handled_at IS NULL AND published_at < NOW(3) - INTERVAL ? MICROSECOND
          AND created_at >= NOW(3) - INTERVAL ? MICROSECOND
        ORDER BY published_at LIMIT ?`,
      [publishedMs * 1000, createdMs * 1000, limit],
    );
    return rows.map((r) => ({ id: r.id, event: eventOf(r.payload) }));
  }

  /** Owed rows looked at again: to the back of the line (their published_at). */
  async markRepublished(ids: string[]): Promise<void> {
    await this.db.execute('UPDATE outbox SET published_at = NOW(3) WHERE id IN (?) AND handled_at IS NULL', [
      ids,
    ]);
  }

  /** Every handler of these events succeeded. */
  async markHandled(ids: string[]): Promise<void> {
    await this.db.execute('UPDATE outbox SET handled_at = NOW(3) WHERE id IN (?) AND handled_at IS NULL', [
      ids,
    ]);
  }

  /** How many rows are owed, and the oldest one's id (its time is in the UUIDv7). */
  async owed(): Promise<{ n: number; oldest: string | null }> {
    const rows: { n: number | string; oldest: string | null }[] = await this.db
      .primaryReader()
      .query('SELECT COUNT(*) AS n, MIN(id) AS oldest FROM outbox WHERE handled_at IS NULL');
    return { n: Number(rows[0].n), oldest: rows[0].oldest };
  }

  /** Deletes up to `limit` rows handled more than `olderThanMs` ago; answers how many. */
  async purgeHandled(olderThanMs: number, limit: number): Promise<number> {
    return affected(
      await this.db.execute('DELETE FROM outbox WHERE handled_at < NOW(3) - INTERVAL ? MICROSECOND LIMIT ?', [
        olderThanMs * 1000,
        limit,
      ]),
    );
  }

  /** Up to `limit` owed rows created more than `olderThanMs` ago. */
  async owedOlderThan(olderThanMs: number, limit: number): Promise<GivenUpRow[]> {
    const rows: { id: string; type: string; aggregate_id: string; payload: unknown }[] = await this.db
      .primaryReader()
      .query(
        `SELECT id, type, aggregate_id, payload FROM outbox
            WHERE handled_at IS NULL AND created_at < NOW(3) - INTERVAL ? MICROSECOND LIMIT ?`,
        [olderThanMs * 1000, limit],
      );
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      aggregateId: r.aggregate_id,
      payload: typeof r.payload === 'string' ? r.payload : JSON.stringify(r.payload),
    }));
  }

  /** Deletes these rows if still owed; answers how many. */
  async deleteOwed(ids: string[]): Promise<number> {
    return affected(
      await this.db.execute('DELETE FROM outbox WHERE id IN (?) AND handled_at IS NULL', [ids]),
    );
  }
}
