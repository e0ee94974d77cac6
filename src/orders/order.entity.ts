import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { UpdatedAtColumn } from '../infra/database/timestamp-columns';

/** Mapping of the `orders` table (hot paths use SQL in OrdersRepository; this documents the shape). */
@Entity('orders')
@Index('idx_orders_user_created', ['userId', 'createdAt', 'id'])
@Index('idx_orders_created', ['createdAt', 'id'])
@Index('idx_orders_status_expires', ['status', 'expiresAt'])
@Index('uq_orders_reservation', ['reservationId'], { unique: true })
export class OrderEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @Column({ type: 'varchar', length: 20 }) status!: string;
  @Column({ name: 'total_minor', type: 'bigint' }) totalMinor!: number;
  @Column({ type: 'char', length: 3 }) currency!: string;
  @Column({ name: 'idempotency_key', type: 'varchar', length: 128, nullable: true })
  idempotencyKey!: string | null;
  @Column({ type: 'varchar', length: 16, default: 'web' }) source!: 'web' | 'flash_sale';
  @Column({ name: 'flash_sale_id', type: 'char', length: 36, nullable: true }) flashSaleId!: string | null;
  @Column({ name: 'reservation_id', type: 'varchar', length: 64, nullable: true })
  reservationId!: string | null;
  @Column({ name: 'payment_id', type: 'varchar', length: 64, nullable: true }) paymentId!: string | null;
  @Column({ name: 'expires_at', type: 'datetime', precision: 3, nullable: true }) expiresAt!: Date | null;
  @Column({ name: 'created_at', type: 'datetime', precision: 3 }) createdAt!: Date;
  @UpdatedAtColumn()
  updatedAt!: Date;
  @Column({ type: 'int', default: 1 }) version!: number;
}

@Entity('order_items')
@Index('idx_order_items_order', ['orderId'])
export class OrderItemEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: number;
  @Column({ name: 'order_id', type: 'char', length: 36 }) orderId!: string;
  @Column({ type: 'varchar', length: 64 }) sku!: string;
  @Column({ name: 'product_id', type: 'char', length: 36, nullable: true }) productId!: string | null;
  @Column({ name: 'product_name', type: 'varchar', length: 255 }) productName!: string;
  @Column({ name: 'unit_price_minor', type: 'bigint' }) unitPriceMinor!: number;
  @Column({ type: 'int' }) quantity!: number;
}

@Entity('idempotency_keys')
@Index('idx_idempotency_created', ['createdAt'])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @PrimaryColumn({ type: 'varchar', length: 128 }) key!: string;
  @Column({ name: 'request_hash', type: 'char', length: 64 }) requestHash!: string;
  @Column({ type: 'varchar', length: 16 }) status!: 'in_progress' | 'done';
  @Column({ type: 'json', nullable: true }) response!: unknown;
  @Column({ name: 'created_at', type: 'datetime', precision: 3, default: () => 'CURRENT_TIMESTAMP(3)' })
  createdAt!: Date;
}

@Entity('outbox')
@Index('idx_outbox_published', ['publishedAt', 'id'])
@Index('idx_outbox_owed', ['handledAt', 'publishedAt'])
export class OutboxEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ name: 'aggregate_id', type: 'char', length: 36 }) aggregateId!: string;
  @Column({ type: 'varchar', length: 64 }) type!: string;
  @Column({ type: 'json' }) payload!: unknown;
  @Column({ name: 'created_at', type: 'datetime', precision: 3, default: () => 'CURRENT_TIMESTAMP(3)' })
  createdAt!: Date;
  @Column({ name: 'published_at', type: 'datetime', precision: 3, nullable: true }) publishedAt!: Date | null;
  /** Set once every handler of the event succeeded; until then the event is owed (decision 0020). */
  @Column({ name: 'handled_at', type: 'datetime', precision: 3, nullable: true }) handledAt!: Date | null;
}

/** Mapping of `order_holds` (see its migration; OrderLimits owns the SQL). sku '*' = unpaid orders. */
@Entity('order_holds')
export class OrderHoldEntity {
  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @PrimaryColumn({ type: 'varchar', length: 64, charset: 'ascii', collation: 'ascii_bin' }) sku!: string;
  @Column({ type: 'int' }) held!: number;
  @Column({ type: 'int' }) cap!: number;
}
