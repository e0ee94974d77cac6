import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * - `payment_events.payload` becomes MEDIUMTEXT: a signed event may be as large as the HTTP body
 *   limit (1 MiB), and TEXT stops at 64 KiB, which turned a large valid event into a 500 the PSP
 *   would retry forever.
 * - `payments (status, updated_at)`: reconciliation looks for payments left PENDING.
 */
export class PaymentsReconciliation1795470000000 implements MigrationInterface {
  name = 'PaymentsReconciliation1795470000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE payment_events MODIFY payload MEDIUMTEXT NOT NULL`);
    await q.query(`CREATE INDEX idx_payments_status ON payments (status, updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX idx_payments_status ON payments`);
    await q.query(`ALTER TABLE payment_events MODIFY payload TEXT NOT NULL`);
  }
}
