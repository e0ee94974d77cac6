import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn } from '../infra/database/timestamp-columns';

export type FlashSaleStatus = 'ACTIVE' | 'CLOSED';

/** A sale of `quantity` units of one SKU at `price`, between `startsAt` and `endsAt`. */
@Entity('flash_sales')
@Index('idx_flash_sales_status', ['status', 'endsAt'])
export class FlashSale {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ name: 'product_id', type: 'char', length: 36, nullable: true }) productId!: string | null;
  @Column({ name: 'product_name', type: 'varchar', length: 255 }) productName!: string;
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  price!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ type: 'int' }) quantity!: number;
  @Column({ name: 'per_user_limit', type: 'int' }) perUserLimit!: number;
  @Column({ name: 'starts_at', type: 'datetime', precision: 3 }) startsAt!: Date;
  @Column({ name: 'ends_at', type: 'datetime', precision: 3 }) endsAt!: Date;
  /** ACTIVE until the end job closed it (unsold units released to inventory). */
  @Column({ type: 'varchar', length: 16, default: 'ACTIVE' }) status!: FlashSaleStatus;
  @Column({ name: 'released_quantity', type: 'int', nullable: true }) releasedQuantity!: number | null;
  @Column({ name: 'closed_at', type: 'datetime', precision: 3, nullable: true }) closedAt!: Date | null;
  /** Reservations that became orders, ever (maintained by the consumer under this row's lock). */
  @Column({ name: 'units_taken', type: 'int', default: 0 }) unitsTaken!: number;
  /** Rebuilds of the sale's Redis counters from MySQL so far (the generation stamped in Redis). */
  @Column({ name: 'redis_epoch', type: 'int', default: 0 }) redisEpoch!: number;
  @CreatedAtColumn({ managedByDb: true })
  createdAt!: Date;
}
