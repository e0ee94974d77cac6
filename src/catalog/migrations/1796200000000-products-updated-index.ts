import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `products (updated_at, id)`: the in-process search index (decision 0032) reads the products
 * changed since its last look every second; this index makes that a short range read.
 */
export class ProductsUpdatedIndex1796200000000 implements MigrationInterface {
  name = 'ProductsUpdatedIndex1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX idx_products_updated ON products (updated_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX idx_products_updated ON products');
  }
}
