import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';

/** A mail the SMTP server accepted. */
export interface SentMail {
  dedupeKey: string;
  template: string;
  messageId: string;
}

/** The key of a dedupeKey's row: fixed length whatever the key (an address can be 254 characters). */
export const sentMailKey = (dedupeKey: string): string =>
  createHash('sha256').update(dedupeKey).digest('hex');

/**
 * Every statement on `sent_mail` (decision 0033): which of some dedupeKeys were sent, the rows of
 * mails just sent, and the retention's deletes. Reads and writes run on the primary.
 */
@Injectable()
export class SentMailRepository {
  constructor(private readonly db: DbRouter) {}

  /** The dedupeKeys among `keys` that have a row. */
  async sentAmong(keys: string[]): Promise<Set<string>> {
    const byHash = new Map(keys.map((k) => [sentMailKey(k), k]));
    const rows: { key_hash: string }[] = await this.db
      .primaryReader()
      .query('SELECT key_hash FROM sent_mail WHERE key_hash IN (?)', [[...byHash.keys()]]);
    return new Set(rows.map((r) => byHash.get(r.key_hash)!));
  }

  /** Rows for mails just sent; a key that has one already keeps it. */
  async record(mails: SentMail[]): Promise<void> {
    await this.db.execute(
      `INSERT INTO sent_mail (key_hash, dedupe_key, template, message_id, sent_at) VALUES ${mails
        .map(() => '(?, ?, ?, ?, NOW(3))')
        .join(', ')} ON DUPLICATE KEY UPDATE key_hash = key_hash`,
      mails.flatMap((m) => [sentMailKey(m.dedupeKey), m.dedupeKey, m.template, m.messageId]),
    );
  }

  /** Deletes up to `limit` rows sent more than `olderThanMs` ago; answers how many. */
  async purge(olderThanMs: number, limit: number): Promise<number> {
    return affected(
      await this.db.execute(
        'DELETE FROM sent_mail WHERE sent_at < NOW(3) - INTERVAL ? MICROSECOND ORDER BY sent_at LIMIT ?',
        [olderThanMs * 1000, limit],
      ),
    );
  }
}
