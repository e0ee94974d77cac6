import { MigrationInterface, QueryRunner } from 'typeorm';

/** Account lock after repeated wrong passwords (LOGIN_LOCK_AFTER_FAILURES); NULL = not locked. */
export class AccountLock1764100000000 implements MigrationInterface {
  name = 'AccountLock1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN locked_until DATETIME(3) NULL AFTER role');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users DROP COLUMN locked_until');
  }
}
