import { Injectable } from '@nestjs/common';
import { EntityTarget, In, IsNull, ObjectLiteral, Raw } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { isUuid } from '../common/uuid';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, unlessDuplicate } from '../infra/database/mysql-results';
import { PaymentEventEntity, PaymentEventOutcome } from './payment-event.entity';
import {
  OPEN_AT_PROVIDER,
  PaymentStatus,
  REFUNDABLE,
  RefundStatus,
  refundSourcesOf,
  releasesOrder,
  sourcesOf,
} from './payment-state';
import { PaymentEntity } from './payment.entity';
import { RefundEntity } from './refund.entity';

/** Rows still PENDING are looked at oldest first, this many at a time. */
export interface PendingQuery {
  /** Only rows whose last change is at least this old (on the database's clock). */
  olderThanMs: number;
  limit: number;
}

/**
 * Every statement on `payments`, `payment_events` and `refunds`. Statements run in the
 * transaction the caller has open (DbRouter.transaction joins it), otherwise on their own; reads
 * go to the primary (a client polls a payment for the result of a webhook it did not send, so
 * read-your-writes cannot cover it, and a stale PENDING would mislead). Status changes are
 * conditional UPDATEs built from payment-state.ts: each answers whether it matched.
 */
@Injectable()
export class PaymentsRepository {
  constructor(private readonly db: DbRouter) {}

  private payments() {
    return this.db.primaryReader().getRepository(PaymentEntity);
  }

  private refunds() {
    return this.db.primaryReader().getRepository(RefundEntity);
  }

  // ---- payments

  /** False when the order already has an active payment (the UNIQUE key on `active_order_id`). */
  insert(p: PaymentEntity): Promise<boolean> {
    return this.insertUnlessDuplicate(PaymentEntity, p);
  }

  /** Null for an id that is not a UUID (it cannot exist; nothing is asked). */
  find(id: string): Promise<PaymentEntity | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.payments().findOneBy({ id });
  }

  /** The payment that holds the order's active slot (PENDING or captured), if any. */
  findActiveFor(orderId: string): Promise<PaymentEntity | null> {
    return this.payments().findOneBy({ activeOrderId: orderId });
  }

  /** Reads the payment and locks its row until the transaction ends (in a transaction only). */
  lock(id: string): Promise<PaymentEntity | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.payments().findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** The order's payments the PSP may still capture (see OPEN_AT_PROVIDER). */
  findOpenAtProvider(orderId: string): Promise<PaymentEntity[]> {
    return this.payments().findBy({ orderId, status: In([...OPEN_AT_PROVIDER]) });
  }

  /** Records the PSP's reference once (a concurrent opener's write is kept). */
  async setProviderRef(id: string, providerRef: string): Promise<void> {
    await this.db.writeRepo(PaymentEntity).update({ id, providerRef: IsNull() }, { providerRef });
  }

  /**
   * Moves the payment to `to` if it is in one of `to`'s sources; true when it did. A payment
   * that gives up its order's active slot (FAILED, CANCELLED) frees it in the same statement.
   */
  async transition(id: string, to: PaymentStatus): Promise<boolean> {
    const release = releasesOrder(to) ? ', active_order_id = NULL' : '';
    const res = await this.db.execute(
      `UPDATE payments SET status = ?${release} WHERE id = ? AND status IN (?)`,
      [to, id, sourcesOf(to)],
    );
    return affected(res) === 1;
  }

  /**
   * Reserves `amount` of the captured money for a refund, so concurrent refunds can never add
   * up to more than was captured; false when it would (or the payment is not refundable).
   */
  async reserveRefund(id: string, amount: number): Promise<boolean> {
    const res = await this.db.execute(
      `UPDATE payments SET refunded_minor = refunded_minor + ?
        WHERE id = ? AND status IN (?) AND refunded_minor + ? <= amount_minor`,
      [amount, id, REFUNDABLE, amount],
    );
    return affected(res) === 1;
  }

  /** Gives back the amount a refund reserved (the refund failed). */
  async releaseRefund(id: string, amount: number): Promise<void> {
    await this.db.execute(`UPDATE payments SET refunded_minor = refunded_minor - ? WHERE id = ?`, [
      amount,
      id,
    ]);
  }

  /** PENDING payments whose last change is older than `q.olderThanMs`, oldest first. */
  pendingPayments(q: PendingQuery): Promise<PaymentEntity[]> {
    return this.pending(PaymentEntity, q);
  }

  /** Those still PENDING go to the back of the line (their updated_at moves to now). */
  async postponePayments(ids: string[]): Promise<void> {
    await this.postpone('payments', ids);
  }

  // ---- payment_events

  /** The event's row, inserted first in its transaction: false when its id was recorded before. */
  recordEvent(e: Omit<PaymentEventEntity, 'receivedAt'>): Promise<boolean> {
    return this.insertUnlessDuplicate(PaymentEventEntity, e);
  }

  async setEventOutcome(id: string, outcome: PaymentEventOutcome, paymentId: string | null): Promise<void> {
    await this.db.writeRepo(PaymentEventEntity).update({ id }, { outcome, paymentId });
  }

  // ---- refunds

  async insertRefund(r: RefundEntity): Promise<void> {
    await this.db.writeRepo(RefundEntity).insert(r);
  }

  findRefund(id: string): Promise<RefundEntity | null> {
    return this.refunds().findOneBy({ id });
  }

  refundsOf(paymentId: string): Promise<RefundEntity[]> {
    return this.refunds().find({ where: { paymentId }, order: { createdAt: 'ASC' } });
  }

  /** Moves the refund to `to` if it is in one of `to`'s sources (recording the PSP's reference); true when it did. */
  async transitionRefund(id: string, to: RefundStatus, providerRef?: string): Promise<boolean> {
    const ref = providerRef === undefined ? '' : ', provider_ref = ?';
    const res = await this.db.execute(`UPDATE refunds SET status = ?${ref} WHERE id = ? AND status IN (?)`, [
      to,
      ...(providerRef === undefined ? [] : [providerRef]),
      id,
      refundSourcesOf(to),
    ]);
    return affected(res) === 1;
  }

  /** The money the PSP has given back for this payment so far. */
  async succeededRefundTotal(paymentId: string): Promise<number> {
    const rows = await this.db
      .primaryReader()
      .query<{ total: string | number }[]>(
        `SELECT COALESCE(SUM(amount_minor), 0) AS total FROM refunds WHERE payment_id = ? AND status = 'SUCCEEDED'`,
        [paymentId],
      );
    return Number(rows[0]?.total ?? 0);
  }

  /** PENDING refunds whose last change is older than `q.olderThanMs`, oldest first. */
  pendingRefunds(q: PendingQuery): Promise<RefundEntity[]> {
    return this.pending(RefundEntity, q);
  }

  async postponeRefunds(ids: string[]): Promise<void> {
    await this.postpone('refunds', ids);
  }

  /** Ages are measured on the database's clock, which wrote the timestamps (its time zone need not be the app's). */
  private pending<E extends PaymentEntity | RefundEntity>(
    entity: new () => E,
    q: PendingQuery,
  ): Promise<E[]> {
    return this.db
      .primaryReader()
      .getRepository<PaymentEntity | RefundEntity>(entity)
      .find({
        where: {
          status: 'PENDING',
          updatedAt: Raw((col) => `${col} < NOW(3) - INTERVAL :us MICROSECOND`, {
            us: Math.max(0, q.olderThanMs) * 1000,
          }),
        },
        order: { updatedAt: 'ASC' },
        take: q.limit,
      }) as Promise<E[]>;
  }

  /** An INSERT that a unique or primary key refused answers false; any other error fails. */
  private async insertUnlessDuplicate<E extends ObjectLiteral>(
    entity: EntityTarget<E>,
    row: QueryDeepPartialEntity<E>,
  ): Promise<boolean> {
    return unlessDuplicate(() => this.db.writeRepo(entity).insert(row));
  }

  /** One statement per table: rows still PENDING after their turn run after the ones behind them. */
  private async postpone(table: 'payments' | 'refunds', ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.db.execute(`UPDATE ${table} SET updated_at = NOW(3) WHERE id IN (?) AND status = 'PENDING'`, [
      ids,
    ]);
  }
}
