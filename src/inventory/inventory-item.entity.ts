import { Column, Entity, PrimaryColumn } from 'typeorm';
import { UpdatedAtColumn } from '../infra/database/timestamp-columns';

@Entity('inventory_items')
export class InventoryItem {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ name: 'on_hand', type: 'int', default: 0 }) onHand!: number;
  @Column({ type: 'int', default: 0 }) reserved!: number;
  @Column({ name: 'low_stock_threshold', type: 'int', default: 5 }) lowStockThreshold!: number;
  @UpdatedAtColumn()
  updatedAt!: Date;
}
