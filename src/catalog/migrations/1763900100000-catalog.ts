import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Catalog. Every listing shape has an index that yields rows in the listing order, so keyset
 * pages read `limit` rows instead of sorting the table:
 * - products (status, created_at, id) newest; (status, min_price, id) price; (status, brand, created_at, id) brand;
 * - product_categories: one row per (ancestor category, product) — a product is listed under its
 *   category and every ancestor — so "category including descendants" is one equality on an
 *   index ordered like the listing, with no IN-list + filesort;
 * - FULLTEXT (name, description) for search.
 * `min_price`/`currency` on products denormalise the cheapest variant for price sort and filters.
 */
export class Catalog1763900100000 implements MigrationInterface {
  name = 'Catalog1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE categories (
        id CHAR(36) NOT NULL,
        parent_id CHAR(36) NULL,
        name VARCHAR(120) NOT NULL,
        slug VARCHAR(140) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_categories_slug (slug),
        KEY idx_categories_parent (parent_id),
        CONSTRAINT fk_categories_parent FOREIGN KEY (parent_id) REFERENCES categories (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE products (
        id CHAR(36) NOT NULL,
        category_id CHAR(36) NULL,
        name VARCHAR(200) NOT NULL,
        slug VARCHAR(220) NOT NULL,
        description TEXT NULL,
        brand VARCHAR(120) NULL,
        attributes JSON NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'active',
        min_price INT NOT NULL DEFAULT 0,
        currency CHAR(3) NOT NULL DEFAULT 'EUR',
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        UNIQUE KEY uq_products_slug (slug),
        KEY idx_products_newest (status, created_at, id),
        KEY idx_products_price (status, min_price, id),
        KEY idx_products_brand (status, brand, created_at, id),
        KEY idx_products_category (category_id),
        FULLTEXT KEY ft_products_text (name, description),
        CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories (id),
        CONSTRAINT chk_products_status CHECK (status IN ('draft', 'active', 'archived'))
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE product_variants (
        sku VARCHAR(64) NOT NULL,
        product_id CHAR(36) NOT NULL,
        price_minor INT NOT NULL,
        currency CHAR(3) NOT NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (sku),
        KEY idx_variants_product (product_id, price_minor),
        CONSTRAINT fk_variants_product FOREIGN KEY (product_id) REFERENCES products (id),
        CONSTRAINT chk_variants_price CHECK (price_minor >= 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE product_categories (
        category_id CHAR(36) NOT NULL,
        product_id CHAR(36) NOT NULL,
        status VARCHAR(16) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        min_price INT NOT NULL,
        PRIMARY KEY (category_id, product_id),
        KEY idx_pc_newest (category_id, status, created_at, product_id),
        KEY idx_pc_price (category_id, status, min_price, product_id),
        KEY idx_pc_product (product_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE product_categories');
    await q.query('DROP TABLE product_variants');
    await q.query('DROP TABLE products');
    await q.query('DROP TABLE categories');
  }
}
