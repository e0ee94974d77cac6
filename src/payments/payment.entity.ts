import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../infra/database/timestamp-columns';
import type { PaymentStatus } from './payment-state';

const bigint = { to: (v: number) => v, from: (v: string | number) => Number(v) };

@Entity('payments')
@Index('uq_payments_active_order', ['activeOrderId'], { unique: true })
@Index('idx_payments_order', ['orderId', 'createdAt'])
@Index('idx_payments_user', ['userId', 'createdAt'])
@Index('idx_payments_provider_ref', ['provider', 'providerRef'])
@Index('idx_payments_status', ['status', 'updatedAt'])
export class PaymentEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id: string;
  @Column({ name: 'order_id', type: 'char', length: 36 }) orderId: string;
  @Column({ name: 'user_id', type: 'char', length: 36 }) userId: string;
  @Column({ type: 'varchar', length: 20 }) status: PaymentStatus;
  /** order_id while PENDING or captured, NULL once FAILED or CANCELLED: the UNIQUE key behind "one active payment per order". */
  @Column({ name: 'active_order_id', type: 'char', length: 36, nullable: true }) activeOrderId: string | null;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigint }) amountMinor: number;
  @Column({ name: 'refunded_minor', type: 'bigint', transformer: bigint, default: 0 }) refundedMinor: number;
  @Column({ type: 'char', length: 3 }) currency: string;
  @Column({ type: 'varchar', length: 32 }) provider: string;
  @Column({ name: 'provider_ref', type: 'varchar', length: 128, nullable: true }) providerRef: string | null;
  @CreatedAtColumn({ managedByDb: true })
  createdAt: Date;
  @UpdatedAtColumn({ managedByDb: true })
  updatedAt: Date;
}
