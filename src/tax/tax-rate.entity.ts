import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../infra/database/timestamp-columns';

/** Mapping of `tax_rates` (SQL lives in TaxRepository). */
@Entity('tax_rates')
@Index('uq_tax_rates_country_category', ['country', 'categoryId'], { unique: true })
export class TaxRateEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ type: 'char', length: 2 }) country!: string;
  @Column({ name: 'category_id', type: 'varchar', length: 36, default: '' }) categoryId!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ name: 'rate_bp', type: 'int' }) rateBp!: number;
  @CreatedAtColumn({ managedByDb: true })
  createdAt!: Date;
  @UpdatedAtColumn({ managedByDb: true })
  updatedAt!: Date;
}
