import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Append-only login history. One index per way it is listed, each ending in (created_at, id)
 * so the keyset page `ORDER BY created_at DESC, id DESC` is an index range scan:
 * all rows, by email tried, by user.
 */
export class CreateLoginAudits1763890100000 implements MigrationInterface {
  name = 'CreateLoginAudits1763890100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE login_audits (
        id CHAR(36) NOT NULL,
        user_id CHAR(36) NULL,
        email VARCHAR(254) NOT NULL,
        event ENUM('login','logout') NOT NULL DEFAULT 'login',
        outcome ENUM('success','failure') NOT NULL,
        reason VARCHAR(32) NULL,
        ip VARCHAR(45) NOT NULL,
        user_agent VARCHAR(512) NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        KEY ix_login_audits_created (created_at, id),
        KEY ix_login_audits_email (email, created_at, id),
        KEY ix_login_audits_user (user_id, created_at, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE login_audits');
  }
}
