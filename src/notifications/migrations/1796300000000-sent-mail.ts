import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sent_mail`: one row per mail the SMTP server accepted, keyed by the SHA-256 of its dedupeKey,
 * so a job that runs again (a retry after a crash between the send and the ack, a re-driven dead
 * letter, the same key queued again after its job was trimmed) sends nothing. Kept for
 * DEAD_LETTER_RETENTION_HOURS (the longest a re-drive can come), then purged by `sent_at`
 * (decision 0033). These markers used to be Redis keys kept 30 days, which grew Redis's memory
 * with every mail.
 */
export class SentMail1796300000000 implements MigrationInterface {
  name = 'SentMail1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sent_mail (
        key_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        dedupe_key VARCHAR(512) NOT NULL,
        template VARCHAR(64) NOT NULL,
        message_id VARCHAR(255) NOT NULL,
        sent_at DATETIME(3) NOT NULL,
        PRIMARY KEY (key_hash),
        KEY idx_sent_mail_sent_at (sent_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sent_mail');
  }
}
