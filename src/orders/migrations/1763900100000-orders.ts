import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Orders, their items, idempotency keys and the transactional outbox.
 * - `(user_id, created_at, id)` serves the owner's history (newest first, keyset pagination);
 *   `(created_at, id)` the admin listing; `(status, expires_at)` the expiry sweeper.
 * - `reservation_id` is unique so turning a flash-sale reservation into an order is idempotent.
 */
export class Orders1763900100000 implements MigrationInterface {
  name = 'Orders1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE orders (
        id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        status VARCHAR(20) NOT NULL,
        total_minor BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        idempotency_key VARCHAR(128) NULL,
        source VARCHAR(16) NOT NULL DEFAULT 'web',
        flash_sale_id CHAR(36) NULL,
        reservation_id VARCHAR(64) NULL,
        payment_id VARCHAR(64) NULL,
        expires_at DATETIME(3) NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        version INT NOT NULL DEFAULT 1,
        PRIMARY KEY (id),
        KEY idx_orders_user_created (user_id, created_at, id),
        KEY idx_orders_created (created_at, id),
        KEY idx_orders_status_expires (status, expires_at),
        UNIQUE KEY uq_orders_reservation (reservation_id),
        CONSTRAINT chk_orders_total CHECK (total_minor >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE order_items (
        id BIGINT NOT NULL AUTO_INCREMENT,
        order_id CHAR(36) NOT NULL,
        sku VARCHAR(64) NOT NULL,
        product_id CHAR(36) NULL,
        product_name VARCHAR(255) NOT NULL,
        unit_price_minor BIGINT NOT NULL,
        quantity INT NOT NULL,
        PRIMARY KEY (id),
        KEY idx_order_items_order (order_id),
        CONSTRAINT chk_order_items_quantity CHECK (quantity > 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        user_id CHAR(36) NOT NULL,
        \`key\` VARCHAR(128) NOT NULL,
        request_hash CHAR(64) NOT NULL,
        status VARCHAR(16) NOT NULL,
        response JSON NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (user_id, \`key\`),
        KEY idx_idempotency_created (created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE outbox (
        id CHAR(36) NOT NULL,
        aggregate_id CHAR(36) NOT NULL,
        type VARCHAR(64) NOT NULL,
        payload JSON NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        published_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY idx_outbox_published (published_at, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE outbox');
    await q.query('DROP TABLE idempotency_keys');
    await q.query('DROP TABLE order_items');
    await q.query('DROP TABLE orders');
  }
}
