import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../infra/database/timestamp-columns';

/** Mapping of `shipping_methods` (SQL lives in ShippingRepository). */
@Entity('shipping_methods')
@Index('uq_shipping_methods_code', ['code'], { unique: true })
export class ShippingMethodEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) code!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ name: 'price_minor', type: 'bigint' }) priceMinor!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'free_above_minor', type: 'bigint', nullable: true }) freeAboveMinor!: number | null;
  @Column({ type: 'json' }) countries!: string[];
  @Column({ type: 'boolean', width: 1, default: true }) active!: boolean;
  @CreatedAtColumn({ managedByDb: true })
  createdAt!: Date;
  @UpdatedAtColumn({ managedByDb: true })
  updatedAt!: Date;
}
