import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Coupons, their redemptions and per-customer use counters (docs/decisions/0022).
 * - `coupons.used` is the usage counter the order's batch moves with a conditional UPDATE
 *   (`used < usage_limit`), so the limit holds under any concurrency.
 * - `coupon_redemptions`: one row per order that used a coupon (UNIQUE order_id and
 *   (coupon_id, order_id)); its `status` ACTIVE → RETURNED makes the give-back on cancel/expiry
 *   happen once.
 * - `coupon_customer_uses`: one counter per (coupon, customer) carrying the limit it was taken
 *   under; the CHECK refuses a use past it (the order's batch fails on it and rolls back).
 */
export class Coupons1796100300000 implements MigrationInterface {
  name = 'Coupons1796100300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE coupons (
        id CHAR(36) NOT NULL,
        code VARCHAR(64) NOT NULL,
        kind VARCHAR(16) NOT NULL,
        percent_off INT NULL,
        amount_off_minor BIGINT NULL,
        currency CHAR(3) NULL,
        min_subtotal_minor BIGINT NOT NULL DEFAULT 0,
        starts_at DATETIME(3) NOT NULL,
        ends_at DATETIME(3) NULL,
        usage_limit INT NULL,
        per_customer_limit INT NULL,
        used INT NOT NULL DEFAULT 0,
        skus JSON NULL,
        category_ids JSON NULL,
        active TINYINT(1) NOT NULL DEFAULT 1,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_coupons_code (code),
        CONSTRAINT chk_coupons_kind CHECK (kind IN ('percentage', 'fixed')),
        CONSTRAINT chk_coupons_used CHECK (used >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE coupon_redemptions (
        id BIGINT NOT NULL AUTO_INCREMENT,
        coupon_id CHAR(36) NOT NULL,
        order_id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        discount_minor BIGINT NOT NULL,
        status VARCHAR(16) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        returned_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY uq_coupon_redemptions_order (order_id),
        UNIQUE KEY uq_coupon_redemptions_coupon_order (coupon_id, order_id),
        KEY idx_coupon_redemptions_user (user_id, coupon_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE coupon_customer_uses (
        coupon_id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        used INT NOT NULL,
        max_uses INT NOT NULL,
        PRIMARY KEY (coupon_id, user_id),
        CONSTRAINT chk_coupon_customer_uses_limit CHECK (used >= 0 AND used <= max_uses)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE coupon_customer_uses');
    await q.query('DROP TABLE coupon_redemptions');
    await q.query('DROP TABLE coupons');
  }
}
