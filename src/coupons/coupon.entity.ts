import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../infra/database/timestamp-columns';

/** Mappings of the coupon tables (SQL lives in CouponsRepository; these document the shape). */
@Entity('coupons')
@Index('uq_coupons_code', ['code'], { unique: true })
export class CouponEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id!: string;
  @Column({ type: 'varchar', length: 64 }) code!: string;
  @Column({ type: 'varchar', length: 16 }) kind!: 'percentage' | 'fixed';
  @Column({ name: 'percent_off', type: 'int', nullable: true }) percentOff!: number | null;
  @Column({ name: 'amount_off_minor', type: 'bigint', nullable: true }) amountOffMinor!: number | null;
  @Column({ type: 'char', length: 3, nullable: true }) currency!: string | null;
  @Column({ name: 'min_subtotal_minor', type: 'bigint', default: 0 }) minSubtotalMinor!: number;
  @Column({ name: 'starts_at', type: 'datetime', precision: 3 }) startsAt!: Date;
  @Column({ name: 'ends_at', type: 'datetime', precision: 3, nullable: true }) endsAt!: Date | null;
  @Column({ name: 'usage_limit', type: 'int', nullable: true }) usageLimit!: number | null;
  @Column({ name: 'per_customer_limit', type: 'int', nullable: true }) perCustomerLimit!: number | null;
  @Column({ type: 'int', default: 0 }) used!: number;
  @Column({ type: 'json', nullable: true }) skus!: string[] | null;
  @Column({ name: 'category_ids', type: 'json', nullable: true }) categoryIds!: string[] | null;
  @Column({ type: 'boolean', width: 1, default: true }) active!: boolean;
  @CreatedAtColumn({ managedByDb: true })
  createdAt!: Date;
  @UpdatedAtColumn({ managedByDb: true })
  updatedAt!: Date;
}

@Entity('coupon_redemptions')
@Index('uq_coupon_redemptions_order', ['orderId'], { unique: true })
@Index('uq_coupon_redemptions_coupon_order', ['couponId', 'orderId'], { unique: true })
@Index('idx_coupon_redemptions_user', ['userId', 'couponId'])
export class CouponRedemptionEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: number;
  @Column({ name: 'coupon_id', type: 'char', length: 36 }) couponId!: string;
  @Column({ name: 'order_id', type: 'char', length: 36 }) orderId!: string;
  @Column({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @Column({ name: 'discount_minor', type: 'bigint' }) discountMinor!: number;
  @Column({ type: 'varchar', length: 16 }) status!: 'ACTIVE' | 'RETURNED';
  @CreatedAtColumn()
  createdAt!: Date;
  @Column({ name: 'returned_at', type: 'datetime', precision: 3, nullable: true }) returnedAt!: Date | null;
}

@Entity('coupon_customer_uses')
export class CouponCustomerUseEntity {
  @PrimaryColumn({ name: 'coupon_id', type: 'char', length: 36 }) couponId!: string;
  @PrimaryColumn({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  @Column({ type: 'int' }) used!: number;
  @Column({ name: 'max_uses', type: 'int' }) maxUses!: number;
}
