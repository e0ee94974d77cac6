import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An outbox event stays owed until its handlers succeeded (decision 0020): `handled_at` is set by
 * the outbox consumer after they all did. `(handled_at, published_at)` serves the relay's look for
 * owed events whose job is gone (`handled_at IS NULL AND published_at < ?`) and the retention
 * purge (`handled_at < ?`). Events published before this migration are taken as handled (the
 * relay used to forget them once queued), so none is dispatched a second time.
 */
export class OutboxHandled1795520000000 implements MigrationInterface {
  name = 'OutboxHandled1795520000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN handled_at DATETIME(3) NULL`);
    await q.query(`UPDATE outbox SET handled_at = published_at WHERE published_at IS NOT NULL`);
    await q.query(`CREATE INDEX idx_outbox_owed ON outbox (handled_at, published_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_outbox_owed ON outbox`);
    await q.query(`ALTER TABLE outbox DROP COLUMN handled_at`);
  }
}
