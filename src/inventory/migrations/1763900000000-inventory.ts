import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stock per SKU and its ledger. Counters are signed so `on_hand - reserved` never wraps; the
 * CHECKs are a last line of defence behind the conditional UPDATEs of InventoryService.
 */
export class Inventory1763900000000 implements MigrationInterface {
  name = 'Inventory1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE inventory_items (
        sku VARCHAR(64) NOT NULL,
        on_hand INT NOT NULL DEFAULT 0,
        reserved INT NOT NULL DEFAULT 0,
        low_stock_threshold INT NOT NULL DEFAULT 5,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (sku),
        CONSTRAINT chk_inventory_on_hand CHECK (on_hand >= 0),
        CONSTRAINT chk_inventory_reserved CHECK (reserved >= 0 AND reserved <= on_hand),
        CONSTRAINT chk_inventory_threshold CHECK (low_stock_threshold >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE inventory_movements (
        id BIGINT NOT NULL AUTO_INCREMENT,
        sku VARCHAR(64) NOT NULL,
        delta_on_hand INT NOT NULL,
        delta_reserved INT NOT NULL,
        reason VARCHAR(16) NOT NULL,
        order_id VARCHAR(64) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_inventory_movements_sku (sku, id),
        KEY idx_inventory_movements_order (order_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE inventory_movements');
    await q.query('DROP TABLE inventory_items');
  }
}
