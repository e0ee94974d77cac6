import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn } from '../infra/database/timestamp-columns';

/**
 * CONFIRMED: became an order; RETURNED: its unpaid order expired or was cancelled, the unit went
 * back; REJECTED: Redis handed it out after losing writes and the database had no unit (or no
 * room under the per-user limit) for it, or Redis lost it before it was persisted — no order.
 */
export type ReservationStatus = 'CONFIRMED' | 'RETURNED' | 'REJECTED';

/** Why a reservation was REJECTED (every reason means Redis had lost acknowledged writes). */
export type RejectReason = 'SOLD_OUT' | 'LIMIT_REACHED' | 'LOST';

/** One unit taken by the Lua script and persisted by the stream consumer, with the order it became. */
@Entity('flash_sale_reservations')
@Index('uq_fsr_reservation', ['reservationId'], { unique: true })
@Index('uq_fsr_sale_user_n', ['saleId', 'userId', 'n'], { unique: true })
@Index('uq_fsr_order', ['orderId'], { unique: true })
export class FlashSaleReservation {
  @PrimaryGeneratedColumn({ type: 'bigint' }) id!: string;
  @Column({ name: 'reservation_id', type: 'char', length: 36 }) reservationId!: string;
  @Column({ name: 'sale_id', type: 'char', length: 36 }) saleId!: string;
  @Column({ name: 'user_id', type: 'char', length: 36 }) userId!: string;
  /**
   * The user's n-th unit in this sale (from a per-user sequence in Redis that never goes back; a
   * number Redis handed out twice after losing writes gets the user's next free one).
   */
  @Column({ type: 'int' }) n!: number;
  @Column({ name: 'order_id', type: 'char', length: 36, nullable: true }) orderId!: string | null;
  @Column({ type: 'varchar', length: 16, default: 'CONFIRMED' }) status!: ReservationStatus;
  @Column({ name: 'reject_reason', type: 'varchar', length: 16, nullable: true })
  rejectReason!: RejectReason | null;
  @CreatedAtColumn({ managedByDb: true })
  createdAt!: Date;
}
