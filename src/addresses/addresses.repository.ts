import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';
import type { AddressView, PostalAddress } from './address.types';

interface AddressRow {
  id: string;
  user_id: string;
  full_name: string;
  company: string | null;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postal_code: string;
  country: string;
  phone: string | null;
  is_default: number | boolean;
  created_at: Date;
}

const COLUMNS =
  'id, user_id, full_name, company, line1, line2, city, region, postal_code, country, phone, is_default, created_at';

const toView = (r: AddressRow): AddressView => ({
  id: r.id,
  fullName: r.full_name,
  company: r.company,
  line1: r.line1,
  line2: r.line2,
  city: r.city,
  region: r.region,
  postalCode: r.postal_code,
  country: r.country,
  phone: r.phone,
  isDefault: Number(r.is_default) === 1,
  createdAt: new Date(r.created_at).toISOString(),
});

/** SQL of the `addresses` table. */
@Injectable()
export class AddressesRepository {
  constructor(private readonly db: DbRouter) {}

  /** The caller's own reads go to the primary under read-your-writes (DbRouter.read). */
  async list(userId: string): Promise<AddressView[]> {
    const rows: AddressRow[] = await this.db.read((em) =>
      em.query(`SELECT ${COLUMNS} FROM addresses WHERE user_id = ? ORDER BY created_at, id LIMIT 100`, [
        userId,
      ]),
    );
    return rows.map(toView);
  }

  /** One address of the user, fresh (the primary): an order must not ship to a just-deleted address. */
  async findFresh(userId: string, id: string): Promise<AddressView | undefined> {
    const rows: AddressRow[] = await this.db
      .primaryReader()
      .query(`SELECT ${COLUMNS} FROM addresses WHERE id = ? AND user_id = ?`, [id, userId]);
    return rows[0] && toView(rows[0]);
  }

  /** The default address of each user that has one (flash-sale orders). */
  async defaultsOf(userIds: string[]): Promise<Map<string, AddressView>> {
    const out = new Map<string, AddressView>();
    if (!userIds.length) return out;
    const rows: AddressRow[] = await this.db
      .primaryReader()
      .query(`SELECT ${COLUMNS} FROM addresses WHERE user_id IN (?) AND is_default = 1`, [userIds]);
    for (const r of rows) out.set(r.user_id, toView(r));
    return out;
  }

  /**
   * Locks the customer's book for the rest of the transaction (its `address_books` row, created
   * on first use: a concurrent first insert waits for this one, then updates the same row).
   */
  async lockBook(em: EntityManager, userId: string): Promise<void> {
    await em.query(
      'INSERT INTO address_books (user_id, changed_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE changed_at = ?',
      [userId, new Date(), new Date()],
    );
  }

  async count(em: EntityManager, userId: string): Promise<number> {
    const [row] = (await em.query('SELECT COUNT(*) AS n FROM addresses WHERE user_id = ?', [userId])) as {
      n: number | string;
    }[];
    return Number(row.n);
  }

  async insert(
    em: EntityManager,
    id: string,
    userId: string,
    a: PostalAddress,
    isDefault: boolean,
  ): Promise<void> {
    await em.query(
      `INSERT INTO addresses (id, user_id, full_name, company, line1, line2, city, region, postal_code, country, phone, is_default, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, userId, ...fieldValues(a), isDefault ? 1 : 0, new Date()],
    );
  }

  async update(em: EntityManager, userId: string, id: string, a: PostalAddress): Promise<boolean> {
    const res = await em.query(
      `UPDATE addresses SET full_name = ?, company = ?, line1 = ?, line2 = ?, city = ?, region = ?, postal_code = ?,
         country = ?, phone = ? WHERE id = ? AND user_id = ?`,
      [...fieldValues(a), id, userId],
    );
    return affected(res) === 1;
  }

  /** Makes `id` the user's only default (one statement: every other row of the user loses it). */
  async setDefault(em: EntityManager, userId: string, id: string): Promise<void> {
    await em.query('UPDATE addresses SET is_default = (id = ?) WHERE user_id = ?', [id, userId]);
  }

  async delete(em: EntityManager, userId: string, id: string): Promise<boolean> {
    return affected(await em.query('DELETE FROM addresses WHERE id = ? AND user_id = ?', [id, userId])) === 1;
  }

  /** After the default was deleted: the oldest remaining address becomes the default. */
  async promoteOldest(em: EntityManager, userId: string): Promise<void> {
    await em.query(
      `UPDATE addresses SET is_default = 1 WHERE user_id = ? AND NOT EXISTS (
         SELECT 1 FROM (SELECT id FROM addresses WHERE user_id = ? AND is_default = 1) d)
       ORDER BY created_at, id LIMIT 1`,
      [userId, userId],
    );
  }

  async findIn(em: EntityManager, userId: string, id: string): Promise<AddressView | undefined> {
    const rows: AddressRow[] = await em.query(
      `SELECT ${COLUMNS} FROM addresses WHERE id = ? AND user_id = ?`,
      [id, userId],
    );
    return rows[0] && toView(rows[0]);
  }
}

function fieldValues(a: PostalAddress): unknown[] {
  return [
    a.fullName,
    a.company ?? null,
    a.line1,
    a.line2 ?? null,
    a.city,
    a.region ?? null,
    a.postalCode,
    a.country,
    a.phone ?? null,
  ];
}
