import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Flash sales and the reservations the stream consumer turned into orders. A reservation row is
 * written in the same transaction as its order, so `flash_sale_reservations` is the database side
 * of the reconciliation against Redis. UNIQUE(sale_id, user_id, n) and UNIQUE(reservation_id)
 * make re-delivered stream entries no-ops; UNIQUE(order_id) maps an order back to its sale.
 */
export class FlashSale1763900070000 implements MigrationInterface {
  name = 'FlashSale1763900070000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE flash_sales (
        id CHAR(36) NOT NULL,
        sku VARCHAR(64) NOT NULL,
        product_id CHAR(36) NULL,
        product_name VARCHAR(255) NOT NULL,
        price BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        quantity INT NOT NULL,
        per_user_limit INT NOT NULL,
        starts_at DATETIME(3) NOT NULL,
        ends_at DATETIME(3) NOT NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'ACTIVE',
        released_quantity INT NULL,
        closed_at DATETIME(3) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_flash_sales_status (status, ends_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE flash_sale_reservations (
        id BIGINT NOT NULL AUTO_INCREMENT,
        reservation_id CHAR(36) NOT NULL,
        sale_id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        n INT NOT NULL,
        order_id CHAR(36) NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'CONFIRMED',
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_fsr_reservation (reservation_id),
        UNIQUE KEY uq_fsr_sale_user_n (sale_id, user_id, n),
        UNIQUE KEY uq_fsr_order (order_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE flash_sale_reservations');
    await q.query('DROP TABLE flash_sales');
  }
}
