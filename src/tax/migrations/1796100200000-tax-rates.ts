import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admin-managed tax rates per destination country, optionally per product category
 * (`category_id = ''` is the country's standard rate, also applied to shipping). Rates are
 * basis points (1900 = 19 %). Orders copy the rate and amount of each line.
 */
export class TaxRates1796100200000 implements MigrationInterface {
  name = 'TaxRates1796100200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tax_rates (
        id CHAR(36) NOT NULL,
        country CHAR(2) NOT NULL,
        category_id VARCHAR(36) NOT NULL DEFAULT '',
        name VARCHAR(100) NOT NULL,
        rate_bp INT NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_tax_rates_country_category (country, category_id),
        CONSTRAINT chk_tax_rates_rate CHECK (rate_bp >= 0 AND rate_bp <= 10000)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tax_rates');
  }
}
