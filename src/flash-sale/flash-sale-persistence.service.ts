import { Injectable, Logger } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { OrdersService } from '../orders';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSale } from './flash-sale.entity';
import { FlashSaleStore, StreamEntry } from './flash-sale.store';

/**
 * Turns a batch of stream entries into orders and reservation rows in ONE database transaction,
 * then acknowledges the entries. Safe to run twice on the same entries (a worker that died after
 * commit but before XACK, or two consumers racing over a reclaimed entry): orders are created
 * idempotently by reservation id and the reservation rows are keyed by reservation id and by
 * (sale, user, n), so a repeat adds nothing.
 */
@Injectable()
export class FlashSalePersistence {
  private readonly logger = new Logger('FlashSalePersistence');

  constructor(
    private readonly db: DbRouter,
    private readonly orders: OrdersService,
    private readonly store: FlashSaleStore,
    private readonly metrics: FlashSaleMetrics,
  ) {}

  /** Commits the batch; does not acknowledge it (see {@link persistAndAck}). */
  async persist(sale: FlashSale, entries: StreamEntry[]): Promise<number> {
    const valid = entries.filter((e) => e.reservationId && e.userId && Number.isSafeInteger(e.n));
    if (valid.length < entries.length)
      this.logger.error(`sale ${sale.id}: ${entries.length - valid.length} malformed stream entries skipped`);
    if (!valid.length) return 0;
    await this.db.transaction(async (em) => {
      const orderIds = await this.orders.createFlashSaleOrders(
        valid.map((e) => ({
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
      const rows = valid.map((e) => {
        const orderId = orderIds.get(e.reservationId);
        if (!orderId) throw new Error(`no order returned for reservation ${e.reservationId}`);
        return [e.reservationId, sale.id, e.userId, e.n, orderId, 'CONFIRMED'];
      });
      await em.query(
        `INSERT INTO flash_sale_reservations (reservation_id, sale_id, user_id, n, order_id, status)
         VALUES ? ON DUPLICATE KEY UPDATE reservation_id = reservation_id`,
        [rows],
      );
    });
    return valid.length;
  }

  async persistAndAck(sale: FlashSale, entries: StreamEntry[]): Promise<void> {
    if (!entries.length) return;
    const n = await this.persist(sale, entries);
    // Acknowledge only after the commit: a crash before this line leaves the entries pending,
    // to be reclaimed and re-run (a no-op for the ones already committed).
    await this.store.ack(
      sale.id,
      entries.map((e) => e.streamId),
    );
    this.metrics.persisted.inc(n);
  }
}
