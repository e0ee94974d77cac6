import type { EntityManager } from 'typeorm';
import { Injectable } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, duplicateAs } from '../infra/database/mysql-results';
import { ShippingMethodCodeTakenError } from './shipping.errors';
import type { ShippingMethodInput, ShippingMethodView } from './shipping.types';

interface MethodRow {
  id: string;
  code: string;
  name: string;
  price_minor: number | string;
  currency: string;
  free_above_minor: number | string | null;
  countries: string | string[];
  active: number | boolean;
}

const COLUMNS = 'id, code, name, price_minor, currency, free_above_minor, countries, active';

const toView = (r: MethodRow): ShippingMethodView => ({
  id: r.id,
  code: r.code,
  name: r.name,
  price: Number(r.price_minor),
  currency: r.currency,
  freeAbove: r.free_above_minor === null ? null : Number(r.free_above_minor),
  // MariaDB's JSON is LONGTEXT: mysql2 hands it over as a string.
  countries: typeof r.countries === 'string' ? (JSON.parse(r.countries) as string[]) : r.countries,
  active: Number(r.active) === 1,
});

/** SQL of `shipping_methods`. A shop has a handful: every read loads them all (cached by the service). */
@Injectable()
export class ShippingRepository {
  constructor(private readonly db: DbRouter) {}

  /** `em`: where the caller's cache decided to read (a replica that has the last write, or the primary). */
  async all(em: EntityManager): Promise<ShippingMethodView[]> {
    const rows: MethodRow[] = await em.query(
      `SELECT ${COLUMNS} FROM shipping_methods ORDER BY code LIMIT 1000`,
    );
    return rows.map(toView);
  }

  async findById(id: string): Promise<ShippingMethodView | undefined> {
    const rows: MethodRow[] = await this.db
      .primaryReader()
      .query(`SELECT ${COLUMNS} FROM shipping_methods WHERE id = ?`, [id]);
    return rows[0] && toView(rows[0]);
  }

  async insert(id: string, m: Required<ShippingMethodInput>): Promise<void> {
    await duplicateAs(
      this.db.execute(
        `INSERT INTO shipping_methods (id, code, name, price_minor, currency, free_above_minor, countries, active)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, m.code, m.name, m.price, m.currency, m.freeAbove, JSON.stringify(m.countries), m.active ? 1 : 0],
      ),
      () => new ShippingMethodCodeTakenError(m.code),
    );
  }

  async update(id: string, m: Required<ShippingMethodInput>): Promise<boolean> {
    const res = await duplicateAs(
      this.db.execute(
        `UPDATE shipping_methods SET code = ?, name = ?, price_minor = ?, currency = ?, free_above_minor = ?,
         countries = ?, active = ? WHERE id = ?`,
        [m.code, m.name, m.price, m.currency, m.freeAbove, JSON.stringify(m.countries), m.active ? 1 : 0, id],
      ),
      () => new ShippingMethodCodeTakenError(m.code),
    );
    return affected(res) === 1;
  }

  async delete(id: string): Promise<boolean> {
    return affected(await this.db.execute('DELETE FROM shipping_methods WHERE id = ?', [id])) === 1;
  }
}
