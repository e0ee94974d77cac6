import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admin-managed shipping methods: a flat price per method in one currency, the ISO 3166-1
 * alpha-2 countries it ships to (a JSON array), and an optional threshold above which it is
 * free. Orders copy the method's code, name and cost, so later edits never change a past order.
 */
export class ShippingMethods1796100100000 implements MigrationInterface {
  name = 'ShippingMethods1796100100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE shipping_methods (
        id CHAR(36) NOT NULL,
        code VARCHAR(64) NOT NULL,
        name VARCHAR(100) NOT NULL,
        price_minor BIGINT NOT NULL,
        currency CHAR(3) NOT NULL,
        free_above_minor BIGINT NULL,
        countries JSON NOT NULL,
        active TINYINT(1) NOT NULL DEFAULT 1,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_shipping_methods_code (code),
        CONSTRAINT chk_shipping_price CHECK (price_minor >= 0),
        CONSTRAINT chk_shipping_free_above CHECK (free_above_minor IS NULL OR free_above_minor >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE shipping_methods');
  }
}
