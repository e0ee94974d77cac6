import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../infra/database/timestamp-columns';
import type { RefundStatus } from './payment-state';

/** `requested`: an admin asked; `order_not_payable`: money captured for an order that had expired. */
export type RefundReason = 'requested' | 'order_not_payable';

const bigint = { to: (v: number) => v, from: (v: string | number) => Number(v) };

@Entity('refunds')
@Index('idx_refunds_payment', ['paymentId', 'createdAt'])
@Index('idx_refunds_pending', ['status', 'updatedAt'])
export class RefundEntity {
  @PrimaryColumn({ type: 'char', length: 36 }) id: string;
  @Column({ name: 'payment_id', type: 'char', length: 36 }) paymentId: string;
  @Column({ name: 'amount_minor', type: 'bigint', transformer: bigint }) amountMinor: number;
  @Column({ type: 'char', length: 3 }) currency: string;
  @Column({ type: 'varchar', length: 20 }) status: RefundStatus;
  @Column({ type: 'varchar', length: 32 }) reason: RefundReason;
  @Column({ type: 'boolean', width: 1, default: false }) restock: boolean;
  @Column({ name: 'provider_ref', type: 'varchar', length: 128, nullable: true }) providerRef: string | null;
  @CreatedAtColumn({ managedByDb: true })
  createdAt: Date;
  @UpdatedAtColumn({ managedByDb: true })
  updatedAt: Date;
}
