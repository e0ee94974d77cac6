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
  @Column({ name: 'subtotal_minor', type: 'bigint', nullable: true }) subtotalMinor!: number | null;
  @Column({ name: 'discount_minor', type: 'bigint', default: 0 }) discountMinor!: number;
  @Column({ name: 'shipping_minor', type: 'bigint', default: 0 }) shippingMinor!: number;
  @Column({ name: 'tax_minor', type: 'bigint', default: 0 }) taxMinor!: number;
  @Column({ name: 'tax_included', type: 'boolean', width: 1, default: true }) taxIncluded!: boolean;
  @Column({ name: 'tax_country', type: 'char', length: 2, nullable: true }) taxCountry!: string | null;
  @Column({ name: 'shipping_method_code', type: 'varchar', length: 64, nullable: true })
  shippingMethodCode!: string | null;
  @Column({ name: 'shipping_method_name', type: 'varchar', length: 100, nullable: true })
  shippingMethodName!: string | null;
  @Column({ name: 'coupon_code', type: 'varchar', length: 64, nullable: true }) couponCode!: string | null;
  @Column({ name: 'shipping_address', type: 'json', nullable: true }) shippingAddress!: unknown;
  @Column({ name: 'awaiting_address', type: 'boolean', width: 1, default: false }) awaitingAddress!: boolean;
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
  @Column({ name: 'discount_minor', type: 'bigint', default: 0 }) discountMinor!: number;
  @Column({ name: 'tax_minor', type: 'bigint', default: 0 }) taxMinor!: number;
  @Column({ name: 'tax_rate_bp', type: 'int', default: 0 }) taxRateBp!: number;
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
