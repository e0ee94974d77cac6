import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Flash sales that survive a Redis which lost acknowledged writes (docs/decisions/0021):
 * - `flash_sales.units_taken`: reservations that became orders, ever (the consumer's capacity
 *   check reads it under the sale row's lock instead of counting rows per batch); backfilled.
 * - `flash_sales.redis_epoch`: how many times the sale's Redis counters were rebuilt from MySQL;
 *   the generation stamped into Redis, so an instance can tell which of its 202s may be lost.
 * - `flash_sale_reservations.reject_reason`: a reservation Redis handed out that the database
 *   refused (status REJECTED, no order) — SOLD_OUT / LIMIT_REACHED (a unit or a number Redis had
 *   forgotten was taken) or LOST (Redis lost the reservation before it was persisted).
 */
export class FlashSaleRedisLoss1795500000000 implements MigrationInterface {
  name = 'FlashSaleRedisLoss1795500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE flash_sales ADD COLUMN units_taken INT NOT NULL DEFAULT 0,
         ADD COLUMN redis_epoch INT NOT NULL DEFAULT 0`,
    );
    await q.query(
      `UPDATE flash_sales f SET units_taken =
         (SELECT COUNT(*) FROM flash_sale_reservations r WHERE r.sale_id = f.id)`,
    );
    await q.query(`ALTER TABLE flash_sale_reservations ADD COLUMN reject_reason VARCHAR(16) NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE flash_sale_reservations DROP COLUMN reject_reason');
    await q.query('ALTER TABLE flash_sales DROP COLUMN units_taken, DROP COLUMN redis_epoch');
  }
}
