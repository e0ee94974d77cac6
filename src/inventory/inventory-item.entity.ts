import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('inventory_items')
export class InventoryItem {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ name: 'on_hand', type: 'int' }) onHand!: number;
  @Column({ type: 'int' }) reserved!: number;
  @Column({ name: 'low_stock_threshold', type: 'int' }) lowStockThreshold!: number;
  @Column({ name: 'updated_at', type: 'datetime', precision: 3 }) updatedAt!: Date;
}
