import { Injectable, Logger } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { OrdersService } from '../orders';
import { planAdmissions } from './flash-sale-admission';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSaleRepository, NewReservation } from './flash-sale.repository';
import { FlashSale } from './flash-sale.entity';
import { FlashSaleStore, StreamEntry } from './flash-sale.store';
import type { PersistOutcome } from './flash-sale.types';

/**
 * Turns a batch of stream entries into orders and reservation rows in ONE database transaction,
 * then acknowledges the entries. Safe to run twice on the same entries (a worker that died after
 * commit but before XACK, two consumers racing over a reclaimed entry, a rebuild persisting the
 * stream while a consumer does): the transaction locks the sale's row first, skips reservations
 * already persisted, and decides the others against the database (planAdmissions), so a Redis
 * that lost writes and hands out a unit or a number twice never yields an order beyond the
 * quantity or the per-user limit — such a reservation is stored REJECTED, without an order.
 */
@Injectable()
export class FlashSalePersistence {
  private readonly logger = new Logger('FlashSalePersistence');

  constructor(
    private readonly db: DbRouter,
    private readonly repo: FlashSaleRepository,
    private readonly orders: OrdersService,
    private readonly store: FlashSaleStore,
    private readonly metrics: FlashSaleMetrics,
  ) {}

  /** Commits the batch; does not acknowledge it (see {@link persistAndAck}). */
  async persist(sale: FlashSale, entries: StreamEntry[]): Promise<PersistOutcome> {
    const valid = entries.filter((e) => e.reservationId && e.userId && Number.isSafeInteger(e.n));
    if (valid.length < entries.length)
      this.logger.error(`sale ${sale.id}: ${entries.length - valid.length} malformed stream entries skipped`);
    const none: PersistOutcome = { accepted: 0, rejected: 0, anomalies: [] };
    if (!valid.length) return none;
    return this.db.transaction(async () => {
      // Every writer of this sale's reservations holds this lock: the reads below stay true
      // until the commit.
      const lock = await this.repo.lockSale(sale.id);
      if (!lock) throw new Error(`sale ${sale.id} not found`);
      const known = await this.repo.knownReservations(valid.map((e) => e.reservationId));
      const fresh = valid.filter((e) => !known.has(e.reservationId) && known.add(e.reservationId));
      if (!fresh.length) return none;

      const rows = await this.repo.reservationsOf(sale.id, [...new Set(fresh.map((e) => e.userId))]);
      const confirmed = rows.filter((r) => r.status === 'CONFIRMED' && r.orderId).map((r) => r.orderId!);
      const returned = await this.store.returnedInfo(sale.id, confirmed).catch(async () => {
        // Redis unreachable: decide from MySQL alone rather than hold the batch (entries read
        // before Redis died would otherwise be persisted only after it is back — and after a
        // loss, possibly after the rebuild counted without them). MySQL's RETURNED rows trail
        // Redis's returns by a moment, so this can only over-count the units held.
        return { count: await this.repo.countReturned(sale.id), returned: new Set<string>() };
      });
      const plan = planAdmissions({
        quantity: sale.quantity,
        perUserLimit: sale.perUserLimit,
        unitsTaken: lock.unitsTaken,
        unitsReturned: returned.count,
        existing: rows.map((r) => ({
          userId: r.userId,
          n: r.n,
          status: r.status,
          rejectReason: r.rejectReason,
          returnedInRedis: !!r.orderId && returned.returned.has(r.orderId),
        })),
        entries: fresh,
      });

      const accepted = plan.admissions.filter((a) => a.accepted);
      const orderIds = await this.orders.createFlashSaleOrders(
        accepted.map(({ entry: e }) => ({
          reservationId: e.reservationId,
          userId: e.userId,
          flashSaleId: sale.id,
          sku: sale.sku,
          quantity: 1,
          unitPrice: sale.price,
          currency: sale.currency,
          productName: sale.productName,
        })),
      );
      await this.repo.insertReservations(
        plan.admissions.map((a): NewReservation => {
          const row = {
            reservationId: a.entry.reservationId,
            saleId: sale.id,
            userId: a.entry.userId,
            n: a.n,
          };
          if (!a.accepted)
            return { ...row, orderId: null, status: 'REJECTED', rejectReason: a.reason ?? null };
          const orderId = orderIds.get(a.entry.reservationId);
          if (!orderId) throw new Error(`no order returned for reservation ${a.entry.reservationId}`);
          return { ...row, orderId, status: 'CONFIRMED', rejectReason: null };
        }),
      );
      if (accepted.length) await this.repo.addUnitsTaken(sale.id, accepted.length);

      const renumbered = new Map<string, number>();
      for (const a of plan.admissions)
        if (a.n !== a.entry.n)
          renumbered.set(a.entry.userId, Math.max(renumbered.get(a.entry.userId) ?? 0, a.n));
      // The next purchase of these users must not be handed the number just given (best effort:
      // the rebuild that the anomaly triggers sets every sequence from MySQL anyway).
      if (renumbered.size) this.db.afterCommit(() => this.store.seqAtLeast(sale.id, renumbered));
      const rejected = plan.admissions.length - accepted.length;
      if (plan.anomalies.length)
        this.db.afterCommit(() => {
          this.logger.error(
            `sale ${sale.id}: Redis lost acknowledged writes — ${accepted.length} accepted, ${rejected} rejected, ` +
              `${renumbered.size} renumbered: ${plan.anomalies.slice(0, 5).join('; ')}`,
          );
          for (const a of plan.admissions) if (a.reason) this.metrics.rejected.inc({ reason: a.reason });
        });
      return { accepted: accepted.length, rejected, anomalies: plan.anomalies };
    });
  }

  async persistAndAck(sale: FlashSale, entries: StreamEntry[]): Promise<PersistOutcome> {
    if (!entries.length) return { accepted: 0, rejected: 0, anomalies: [] };
    const outcome = await this.persist(sale, entries);
    // Acknowledge only after the commit: a crash before this line leaves the entries pending,
    // to be reclaimed and re-run (a no-op for the ones already committed).
    await this.store.ack(
      sale.id,
      entries.map((e) => e.streamId),
    );
    this.metrics.persisted.inc(outcome.accepted);
    return outcome;
  }
}
