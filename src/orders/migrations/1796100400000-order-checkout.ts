import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checkout on orders (docs/checkout.md): the price breakdown, the shipping method and address
 * copied at order time, the coupon code, and per-line discount and tax. Orders placed before
 * keep `subtotal_minor` NULL (their total is their subtotal) and zeros elsewhere.
 * `awaiting_address`: a flash-sale order of a buyer with no default address, payable once given one.
 */
export class OrderCheckout1796100400000 implements MigrationInterface {
  name = 'OrderCheckout1796100400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orders
        ADD COLUMN subtotal_minor BIGINT NULL,
        ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN shipping_minor BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN tax_minor BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN tax_included TINYINT(1) NOT NULL DEFAULT 1,
        ADD COLUMN tax_country CHAR(2) NULL,
        ADD COLUMN shipping_method_code VARCHAR(64) NULL,
        ADD COLUMN shipping_method_name VARCHAR(100) NULL,
        ADD COLUMN coupon_code VARCHAR(64) NULL,
        ADD COLUMN shipping_address JSON NULL,
        ADD COLUMN awaiting_address TINYINT(1) NOT NULL DEFAULT 0`);
    await q.query(`
      ALTER TABLE order_items
        ADD COLUMN discount_minor BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN tax_minor BIGINT NOT NULL DEFAULT 0,
        ADD COLUMN tax_rate_bp INT NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE order_items DROP COLUMN discount_minor, DROP COLUMN tax_minor, DROP COLUMN tax_rate_bp',
    );
    await q.query(`
      ALTER TABLE orders DROP COLUMN subtotal_minor, DROP COLUMN discount_minor, DROP COLUMN shipping_minor,
        DROP COLUMN tax_minor, DROP COLUMN tax_included, DROP COLUMN tax_country, DROP COLUMN shipping_method_code,
        DROP COLUMN shipping_method_name, DROP COLUMN coupon_code, DROP COLUMN shipping_address, DROP COLUMN awaiting_address`);
  }
}
