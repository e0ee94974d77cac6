import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation finds refunds left PENDING by their last change (`updated_at` moves when a run
 * leaves one unresolved, so it goes to the back of the line): `(status, updated_at)` replaces
 * `(status, created_at)`, which no query uses any more.
 */
export class RefundsPendingIndex1795490000000 implements MigrationInterface {
  name = 'RefundsPendingIndex1795490000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idx_refunds_pending ON refunds (status, updated_at)`);
    await q.query(`DROP INDEX idx_refunds_status ON refunds`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX idx_refunds_status ON refunds (status, created_at)`);
    await q.query(`DROP INDEX idx_refunds_pending ON refunds`);
  }
}
