import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Email verification (`users.email_verified_at`, NULL = not verified; accounts that existed
 * before stay unverified until they follow a link) and password-reset tokens (stored as the
 * SHA-256 of the mailed value, single use through `used_at`, purged a day after expiry).
 */
export class AccountFlows1796100000000 implements MigrationInterface {
  name = 'AccountFlows1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN email_verified_at DATETIME(3) NULL AFTER locked_until');
    await q.query(`
      CREATE TABLE password_reset_tokens (
        id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        token_hash CHAR(64) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        used_at DATETIME(3) NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_password_reset_tokens_hash (token_hash),
        KEY ix_password_reset_tokens_user (user_id),
        KEY ix_password_reset_tokens_expires (expires_at),
        CONSTRAINT fk_password_reset_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE password_reset_tokens');
    await q.query('ALTER TABLE users DROP COLUMN email_verified_at');
  }
}
