import type { EntityManager } from 'typeorm';
import { Injectable } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, duplicateAs } from '../infra/database/mysql-results';
import { TaxRateExistsError } from './tax.errors';
import type { TaxRateInput, TaxRateView } from './tax.types';

interface RateRow {
  id: string;
  country: string;
  category_id: string;
  name: string;
  rate_bp: number;
}

const toView = (r: RateRow): TaxRateView => ({
  id: r.id,
  country: r.country,
  categoryId: r.category_id || null,
  name: r.name,
  rateBp: Number(r.rate_bp),
});

/** SQL of `tax_rates` (a few hundred rows at most: read whole, cached by the service). */
@Injectable()
export class TaxRepository {
  constructor(private readonly db: DbRouter) {}

  /** `em`: where the caller's cache decided to read (a replica that has the last write, or the primary). */
  async all(em: EntityManager): Promise<TaxRateView[]> {
    const rows: RateRow[] = await em.query(
      'SELECT id, country, category_id, name, rate_bp FROM tax_rates ORDER BY country, category_id LIMIT 10000',
    );
    return rows.map(toView);
  }

  async findById(id: string): Promise<TaxRateView | undefined> {
    const rows: RateRow[] = await this.db
      .primaryReader()
      .query('SELECT id, country, category_id, name, rate_bp FROM tax_rates WHERE id = ?', [id]);
    return rows[0] && toView(rows[0]);
  }

  async insert(id: string, r: TaxRateInput): Promise<void> {
    await duplicateAs(
      this.db.execute(
        'INSERT INTO tax_rates (id, country, category_id, name, rate_bp) VALUES (?, ?, ?, ?, ?)',
        [id, r.country, r.categoryId ?? '', r.name, r.rateBp],
      ),
      () => new TaxRateExistsError(r.country, r.categoryId ?? null),
    );
  }

  async update(id: string, r: TaxRateInput): Promise<boolean> {
    const res = await duplicateAs(
      this.db.execute(
        'UPDATE tax_rates SET country = ?, category_id = ?, name = ?, rate_bp = ? WHERE id = ?',
        [r.country, r.categoryId ?? '', r.name, r.rateBp, id],
      ),
      () => new TaxRateExistsError(r.country, r.categoryId ?? null),
    );
    return affected(res) === 1;
  }

  async delete(id: string): Promise<boolean> {
    return affected(await this.db.execute('DELETE FROM tax_rates WHERE id = ?', [id])) === 1;
  }
}
