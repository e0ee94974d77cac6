import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The payments ledger. `active_order_id` is the order id while a payment is not FAILED and NULL
 * once it fails (set by the same UPDATE that fails it; a generated column would say it more
 * directly but MariaDB refuses the expression); its UNIQUE index is what makes "one active payment per order" hold under
 * concurrent POST /payments (NULLs do not collide, so a failed payment can be retried).
 * `payment_events.id` is the provider's event id: its PRIMARY KEY deduplicates webhooks.
 */
export class Payments1763900600000 implements MigrationInterface {
  name = 'Payments1763900600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE payments (
        id CHAR(36) NOT NULL,
        order_id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        status VARCHAR(20) NOT NULL,
        amount_minor BIGINT NOT NULL,
        refunded_minor BIGINT NOT NULL DEFAULT 0,
        currency CHAR(3) NOT NULL,
        provider VARCHAR(32) NOT NULL,
        provider_ref VARCHAR(128) NULL,
        active_order_id CHAR(36) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_payments_active_order (active_order_id),
        KEY idx_payments_order (order_id, created_at),
        KEY idx_payments_user (user_id, created_at),
        KEY idx_payments_provider_ref (provider, provider_ref)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE payment_events (
        id VARCHAR(128) NOT NULL,
        provider VARCHAR(32) NOT NULL,
        payment_id CHAR(36) NULL,
        type VARCHAR(64) NOT NULL,
        outcome VARCHAR(32) NOT NULL,
        payload TEXT NOT NULL,
        received_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_payment_events_payment (payment_id, received_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE refunds (
        id CHAR(36) NOT NULL,
        payment_id CHAR(36) NOT NULL,
        amount_minor BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        status VARCHAR(20) NOT NULL,
        reason VARCHAR(32) NOT NULL,
        restock TINYINT(1) NOT NULL DEFAULT 0,
        provider_ref VARCHAR(128) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_refunds_payment (payment_id, created_at),
        KEY idx_refunds_status (status, created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE refunds');
    await q.query('DROP TABLE payment_events');
    await q.query('DROP TABLE payments');
  }
}
