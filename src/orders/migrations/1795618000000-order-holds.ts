import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What each customer holds in unpaid web orders (docs/decisions/0018-order-limits.md): one row per
 * (customer, SKU) with the units held, and one row with sku '*' (not a valid SKU) with the number
 * of unpaid orders. `cap` is the limit that applied when the row was last raised; the CHECK makes
 * the raise itself fail when it would pass the cap, so the limit holds on the server, in the
 * order's own transaction, whatever the concurrency. `sku` is ASCII binary so the rows of one
 * customer are locked in the same order as the application sorts SKUs.
 */
export class OrderHolds1795618000000 implements MigrationInterface {
  name = 'OrderHolds1795618000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE order_holds (
        user_id CHAR(36) NOT NULL,
        sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        held INT NOT NULL,
        cap INT NOT NULL,
        PRIMARY KEY (user_id, sku),
        CONSTRAINT chk_order_holds_cap CHECK (held <= cap)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE order_holds');
  }
}
