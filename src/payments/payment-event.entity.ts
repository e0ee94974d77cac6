import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** What the webhook did with an event: the audit trail of every delivery we accepted. */
export type PaymentEventOutcome =
  'applied' | 'ignored_state' | 'mismatch' | 'unknown_payment' | 'auto_refund';

@Entity('payment_events')
@Index('idx_payment_events_payment', ['paymentId', 'receivedAt'])
export class PaymentEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 128 }) id: string;
  @Column({ type: 'varchar', length: 32 }) provider: string;
  @Column({ name: 'payment_id', type: 'char', length: 36, nullable: true }) paymentId: string | null;
  @Column({ type: 'varchar', length: 64 }) type: string;
  @Column({ type: 'varchar', length: 32 }) outcome: PaymentEventOutcome;
  @Column({ type: 'mediumtext' }) payload: string;
  @Column({
    name: 'received_at',
    type: 'datetime',
    precision: 3,
    default: () => 'CURRENT_TIMESTAMP(3)',
    insert: false,
    update: false,
  })
  receivedAt: Date;
}
