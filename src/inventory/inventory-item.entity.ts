import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('inventory_items')
export class InventoryItem {
  @PrimaryColumn({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ name: 'on_hand', type: 'int', default: 0 }) onHand!: number;
  @Column({ type: 'int', default: 0 }) reserved!: number;
  @Column({ name: 'low_stock_threshold', type: 'int', default: 5 }) lowStockThreshold!: number;
  @Column({
    name: 'updated_at',
    type: 'datetime',
    precision: 3,
    default: () => 'CURRENT_TIMESTAMP(3)',
    onUpdate: 'CURRENT_TIMESTAMP(3)',
  })
  updatedAt!: Date;
}
