import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A customer's address book. `(user_id, created_at)` serves the listing; at most one row per
 * user has `is_default = 1` (kept by AddressesRepository in one transaction). `address_books`
 * holds one row per customer with an address book: the row every change of the book locks
 * first, so concurrent changes of one customer's book run one after the other (the size cap and
 * the one default hold; an empty book has no address row to lock). Orders copy the
 * address they were placed with (orders.shipping_address), so edits here never change a past order.
 */
export class Addresses1796100000000 implements MigrationInterface {
  name = 'Addresses1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE addresses (
        id CHAR(36) NOT NULL,
        user_id CHAR(36) NOT NULL,
        full_name VARCHAR(100) NOT NULL,
        company VARCHAR(100) NULL,
        line1 VARCHAR(200) NOT NULL,
        line2 VARCHAR(200) NULL,
        city VARCHAR(100) NOT NULL,
        region VARCHAR(100) NULL,
        postal_code VARCHAR(20) NOT NULL,
        country CHAR(2) NOT NULL,
        phone VARCHAR(30) NULL,
        is_default TINYINT(1) NOT NULL DEFAULT 0,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY idx_addresses_user (user_id, created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
    await q.query(`
      CREATE TABLE address_books (
        user_id CHAR(36) NOT NULL,
        changed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (user_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE address_books');
    await q.query('DROP TABLE addresses');
  }
}
