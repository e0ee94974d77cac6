import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type MovementReason = 'reserve' | 'commit' | 'release' | 'restock' | 'adjust' | 'initial';

/** The ledger: every stock change, append-only. */
@Entity('inventory_movements')
@Index('idx_inventory_movements_sku', ['sku', 'id'])
@Index('idx_inventory_movements_order', ['orderId'])
export class InventoryMovement {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ name: 'delta_on_hand', type: 'int' }) deltaOnHand!: number;
  @Column({ name: 'delta_reserved', type: 'int' }) deltaReserved!: number;
  @Column({ type: 'varchar', length: 16 }) reason!: MovementReason;
  @Column({ name: 'order_id', type: 'varchar', length: 64, nullable: true }) orderId!: string | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3, default: () => 'CURRENT_TIMESTAMP(3)' })
  createdAt!: Date;
}
