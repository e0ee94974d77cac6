import { Injectable } from '@nestjs/common';
import { MoreThan } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';
import { FlashSaleReservation, RejectReason, ReservationStatus } from './flash-sale-reservation.entity';
import { FlashSale, FlashSaleStatus } from './flash-sale.entity';

/** A persisted reservation as the admission and the rebuild read it. */
export interface ReservationRow {
  userId: string;
  n: number;
  status: ReservationStatus;
  orderId: string | null;
  rejectReason: RejectReason | null;
}

/** A reservation row to insert: CONFIRMED with its order, or REJECTED with its reason. */
export interface NewReservation {
  reservationId: string;
  saleId: string;
  userId: string;
  n: number;
  orderId: string | null;
  status: 'CONFIRMED' | 'REJECTED';
  rejectReason: RejectReason | null;
}

/** The reservation counts reconciliation compares with Redis. */
export interface ReservationCounts {
  /** Rows for reservations that became orders (confirmed + returned). */
  reservations: number;
  confirmed: number;
  returned: number;
  orders: number;
  /** Reservations answered 202 that got no order because Redis had lost writes. */
  rejected: number;
}

export interface RejectedReservation {
  reservationId: string;
  userId: string;
  reason: RejectReason;
  at: Date;
}

type Row<K extends string> = Record<K, string | number | null>;

/**
 * Every statement on `flash_sales` and `flash_sale_reservations`. Writers of a sale's
 * reservations hold the sale's row lock ({@link lockSale}) in the caller's transaction
 * (DbRouter.transaction joins it); reads that decide go to the primary.
 */
@Injectable()
export class FlashSaleRepository {
  constructor(private readonly db: DbRouter) {}

  // ---- flash_sales

  async insertSale(sale: FlashSale): Promise<void> {
    await this.db.writeRepo(FlashSale).insert(sale);
  }

  /** A sale by id: a replica first, then the primary (a replica may not have one created a few ms ago). */
  async findSale(id: string): Promise<FlashSale | undefined> {
    return (
      (await this.db.read((em) => em.getRepository(FlashSale).findOneBy({ id }))) ??
      (await this.freshSale(id))
    );
  }

  /** The sale with its current status, from the primary. */
  async freshSale(id: string): Promise<FlashSale | undefined> {
    return (await this.db.primaryReader().getRepository(FlashSale).findOneBy({ id })) ?? undefined;
  }

  /** ACTIVE sales, and sales CLOSED less than `closedWithinMs` ago (from the primary). */
  openSales(closedWithinMs: number): Promise<FlashSale[]> {
    return this.db
      .primaryReader()
      .getRepository(FlashSale)
      .find({
        where: [
          { status: 'ACTIVE' },
          { status: 'CLOSED', closedAt: MoreThan(new Date(Date.now() - closedWithinMs)) },
        ],
      });
  }

  /**
   * Locks the sale's row until the transaction ends (every writer of its reservations holds it,
   * so what is read after stays true until the commit); undefined when there is no such sale.
   */
  async lockSale(id: string): Promise<{ unitsTaken: number } | undefined> {
    const [row] = await this.db
      .primaryReader()
      .query<Row<'units_taken'>[]>('SELECT units_taken FROM flash_sales WHERE id = ? FOR UPDATE', [id]);
    return row ? { unitsTaken: Number(row.units_taken) } : undefined;
  }

  async addUnitsTaken(id: string, units: number): Promise<void> {
    await this.db.execute('UPDATE flash_sales SET units_taken = units_taken + ? WHERE id = ?', [units, id]);
  }

  /** ACTIVE → CLOSED with the units released to inventory; true for the one call that closed it. */
  async closeSale(id: string, releasedQuantity: number): Promise<boolean> {
    const res = await this.db.execute(
      `UPDATE flash_sales SET status = 'CLOSED', released_quantity = ?, closed_at = CURRENT_TIMESTAMP(3)
             WHERE id = ? AND status = 'ACTIVE'`,
      [releasedQuantity, id],
    );
    return affected(res) === 1;
  }

  /** The sale's status and released units, fresh (the rebuild reads them). */
  async saleState(
    id: string,
  ): Promise<{ status: FlashSaleStatus; releasedQuantity: number | null } | undefined> {
    const [row] = await this.db
      .primaryReader()
      .query<Row<'status' | 'released_quantity'>[]>(
        'SELECT status, released_quantity FROM flash_sales WHERE id = ?',
        [id],
      );
    if (!row) return undefined;
    return {
      status: row.status as FlashSaleStatus,
      releasedQuantity: row.released_quantity === null ? null : Number(row.released_quantity),
    };
  }

  /** Rebuilds of the sale's Redis counters recorded so far (0 for an unknown sale). */
  async epoch(id: string): Promise<number> {
    const [row] = await this.db
      .primaryReader()
      .query<Row<'redis_epoch'>[]>('SELECT redis_epoch FROM flash_sales WHERE id = ?', [id]);
    return Number(row?.redis_epoch ?? 0);
  }

  /** Counts one more rebuild and answers the new epoch (in a transaction: the read sees the write). */
  async nextEpoch(id: string): Promise<number> {
    await this.db.execute('UPDATE flash_sales SET redis_epoch = redis_epoch + 1 WHERE id = ?', [id]);
    const [row] = await this.db
      .primaryReader()
      .query<Row<'redis_epoch'>[]>('SELECT redis_epoch FROM flash_sales WHERE id = ?', [id]);
    return Number(row.redis_epoch);
  }

  // ---- flash_sale_reservations

  /** Which of these reservation ids have a row (any status). */
  async knownReservations(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db
      .primaryReader()
      .query<Row<'reservation_id'>[]>(
        'SELECT reservation_id FROM flash_sale_reservations WHERE reservation_id IN (?)',
        [ids],
      );
    return new Set(rows.map((r) => String(r.reservation_id)));
  }

  /** These users' reservations of the sale, every status. */
  async reservationsOf(saleId: string, userIds: string[]): Promise<ReservationRow[]> {
    const rows = await this.db
      .primaryReader()
      .query<Row<'user_id' | 'n' | 'status' | 'order_id' | 'reject_reason'>[]>(
        `SELECT user_id, n, status, order_id, reject_reason FROM flash_sale_reservations
          WHERE sale_id = ? AND user_id IN (?)`,
        [saleId, userIds],
      );
    return rows.map(toReservation);
  }

  /** Every reservation of the sale (the rebuild counts from them). */
  async allReservations(saleId: string): Promise<ReservationRow[]> {
    const rows = await this.db
      .primaryReader()
      .query<Row<'user_id' | 'n' | 'status' | 'order_id'>[]>(
        'SELECT user_id, n, status, order_id FROM flash_sale_reservations WHERE sale_id = ?',
        [saleId],
      );
    return rows.map((r) => toReservation({ ...r, reject_reason: null }));
  }

  async countReturned(saleId: string): Promise<number> {
    const [row] = await this.db
      .primaryReader()
      .query<Row<'n'>[]>(
        `SELECT COUNT(*) AS n FROM flash_sale_reservations WHERE sale_id = ? AND status = 'RETURNED'`,
        [saleId],
      );
    return Number(row.n);
  }

  /** The highest number each of these users holds in the sale (users without one are absent). */
  async maxNumbers(saleId: string, userIds: string[]): Promise<Map<string, number>> {
    const rows = await this.db
      .primaryReader()
      .query<Row<'user_id' | 'n'>[]>(
        'SELECT user_id, MAX(n) AS n FROM flash_sale_reservations WHERE sale_id = ? AND user_id IN (?) GROUP BY user_id',
        [saleId, userIds],
      );
    return new Map(rows.map((r) => [String(r.user_id), Number(r.n)]));
  }

  /**
   * One multi-row INSERT. A plain INSERT: under the sale's lock a duplicate cannot happen, and if
   * it did, failing the batch (retried) is better than an order without its reservation row.
   */
  async insertReservations(rows: NewReservation[]): Promise<void> {
    await this.db.execute(
      `INSERT INTO flash_sale_reservations (reservation_id, sale_id, user_id, n, order_id, status, reject_reason)
         VALUES ?`,
      [rows.map((r) => [r.reservationId, r.saleId, r.userId, r.n, r.orderId, r.status, r.rejectReason])],
    );
  }

  /** CONFIRMED → RETURNED for the order's reservation; true for the one call that moved it. */
  async markReturned(orderId: string): Promise<boolean> {
    const res = await this.db.execute(
      `UPDATE flash_sale_reservations SET status = 'RETURNED' WHERE order_id = ? AND status = 'CONFIRMED'`,
      [orderId],
    );
    return affected(res) === 1;
  }

  /** The user's latest reservation of the sale (highest number), fresh. */
  async latestReservation(saleId: string, userId: string): Promise<FlashSaleReservation | null> {
    return this.db
      .primaryReader()
      .getRepository(FlashSaleReservation)
      .findOne({ where: { saleId, userId }, order: { n: 'DESC' } });
  }

  async reservationCounts(saleId: string): Promise<ReservationCounts> {
    const [d] = await this.db.primaryReader().query<Row<keyof ReservationCounts>[]>(
      `SELECT COALESCE(SUM(status <> 'REJECTED'), 0) AS reservations,
                COALESCE(SUM(status = 'CONFIRMED'), 0) AS confirmed,
                COALESCE(SUM(status = 'RETURNED'), 0) AS returned,
                COALESCE(SUM(status = 'REJECTED'), 0) AS rejected,
                COUNT(DISTINCT order_id) AS orders
           FROM flash_sale_reservations WHERE sale_id = ?`,
      [saleId],
    );
    return {
      reservations: Number(d.reservations),
      confirmed: Number(d.confirmed),
      returned: Number(d.returned),
      orders: Number(d.orders),
      rejected: Number(d.rejected),
    };
  }

  /** REJECTED reservations in the order they were recorded, at most `limit`. */
  async rejectedReservations(saleId: string, limit: number): Promise<RejectedReservation[]> {
    const rows = await this.db
      .primaryReader()
      .query<{ reservation_id: string; user_id: string; reject_reason: RejectReason; created_at: Date }[]>(
        `SELECT reservation_id, user_id, reject_reason, created_at FROM flash_sale_reservations
          WHERE sale_id = ? AND status = 'REJECTED' ORDER BY id LIMIT ?`,
        [saleId, limit],
      );
    return rows.map((r) => ({
      reservationId: r.reservation_id,
      userId: r.user_id,
      reason: r.reject_reason,
      at: new Date(r.created_at),
    }));
  }
}

const toReservation = (
  r: Row<'user_id' | 'n' | 'status' | 'order_id' | 'reject_reason'>,
): ReservationRow => ({
  userId: String(r.user_id),
  n: Number(r.n),
  status: r.status as ReservationStatus,
  orderId: r.order_id === null ? null : String(r.order_id),
  rejectReason: r.reject_reason as RejectReason | null,
});
