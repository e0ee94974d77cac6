import { MigrationInterface, QueryRunner } from 'typeorm';

/** The hourly purge deletes refresh tokens long expired, oldest first, by this index. */
export class RefreshTokenPurge1795480000000 implements MigrationInterface {
  name = 'RefreshTokenPurge1795480000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX ix_refresh_tokens_expires ON refresh_tokens (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX ix_refresh_tokens_expires ON refresh_tokens');
  }
}
