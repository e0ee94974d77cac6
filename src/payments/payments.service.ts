import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { EntityManager, In, IsNull, Raw } from 'typeorm';
import type { AuthUser } from '../common/auth';
import { UnavailableError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { isUuid } from '../common/uuid';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, isDuplicate } from '../infra/database/mysql-results';
import { MetricsService } from '../infra/observability/metrics.service';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import { refundSplitOf } from '../checkout';
import type { RefundSplit } from '../checkout';
import { OrdersService } from '../orders';
import type { OrderView } from '../orders';
import { PaymentEventEntity, PaymentEventOutcome } from './payment-event.entity';
import { PaymentProvider, ProviderDeclinedError, WebhookEvent } from './payment-provider';
import { PaymentEntity } from './payment.entity';
import {
  AddressRequiredError,
  OrderNotPayableError,
  PaymentNotFoundError,
  PaymentNotPendingError,
  PaymentNotRefundableError,
} from './payments.errors';
import { ReceiptMailer } from './receipt-mailer';
import { RefundEntity } from './refund.entity';
import { SandboxPsp } from './sandbox/sandbox-psp';

export interface PaymentView {
  id: string;
  orderId: string;
  userId: string;
  status: PaymentEntity['status'];
  amount: number;
  refundedAmount: number;
  currency: string;
  provider: string;
  createdAt: string;
  updatedAt: string;
}

export interface RefundView {
  id: string;
  paymentId: string;
  amount: number;
  currency: string;
  status: RefundEntity['status'];
  reason: RefundEntity['reason'];
  restock: boolean;
  createdAt: string;
  /** How the amount divides into goods, shipping and tax (docs/checkout.md, "Refunds"). */
  split?: RefundSplit;
}

/** Job on the `payments` queue that finishes a refund the PSP did not take at once. */
export const COMPLETE_REFUND_JOB = 'complete-refund';

/** Reconciliation (see {@link PaymentsService.reconcile}): when a PENDING record is old enough to ask about. */
export const RECONCILE = {
  /** A refund still PENDING this long lost its retry (a crash, Redis down): finish it. */
  refundAfterMs: 60_000,
  /** A payment still PENDING this long has probably lost its webhook: ask the PSP. */
  paymentAfterMs: 15 * 60_000,
  batch: 100,
};

export type WebhookResult = { eventId: string; outcome: PaymentEventOutcome | 'duplicate' };

/** A refusal (nothing to cancel) is an answer; any other error is retried by the caller. */
const ignoreDeclined = (err: unknown): void => {
  if (!(err instanceof ProviderDeclinedError)) throw err;
};

const unavailable = () =>
  new UnavailableError('The payment provider did not answer, retry later', 'PROVIDER_UNAVAILABLE');

/**
 * Payments: creation, the webhook state machine, refunds. Every money-moving change is a
 * conditional UPDATE whose affected-row count decides, inside DbRouter.transaction; calls to the
 * provider happen outside transactions (they are slow and cannot be rolled back) and are made
 * idempotent with our ids as their idempotency keys.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('Payments');
  private readonly webhookOutcomes;

  constructor(
    private readonly db: DbRouter,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly sandbox: SandboxPsp,
    private readonly receipts: ReceiptMailer,
    private readonly config: AppConfig,
    @InjectQueue(QUEUES.payments) private readonly queue: Queue,
    metrics: MetricsService,
  ) {
    this.webhookOutcomes = metrics.counter(
      'shop_payment_events_total',
      'Payment events received (webhooks and reconciliation) by what they did',
      ['outcome'],
    );
  }

  /**
   * POST /payments: one active payment per order; a repeated call returns the existing one. The
   * row is written before the PSP is called, so a PSP that does not answer leaves a payment
   * without a provider reference, which the next call (or reconciliation) opens at the PSP with
   * the same idempotency key.
   */
  async create(user: AuthUser, orderId: string): Promise<PaymentView> {
    const order = await this.orders.get(user.id, orderId); // another user's order → 404
    if (order.status !== 'PENDING_PAYMENT') throw new OrderNotPayableError(order.status);
    // A flash-sale order of a buyer without a default address: nothing to ship to yet.
    if (order.awaitingAddress) throw new AddressRequiredError(orderId);
    const existing = await this.activeFor(orderId);
    if (existing?.status === 'PENDING') return toView(await this.openAtProvider(existing));
    if (existing) throw new OrderNotPayableError(order.status);

    const payment = Object.assign(new PaymentEntity(), {
      id: newId(),
      orderId,
      userId: order.userId,
      status: 'PENDING' as const,
      activeOrderId: orderId,
      amountMinor: order.total.amount,
      refundedMinor: 0,
      currency: order.total.currency,
      provider: this.provider.name,
      providerRef: null,
    });
    try {
      await this.db.writeRepo(PaymentEntity).insert(payment);
    } catch (err) {
      // A concurrent call won the unique active-payment key: answer with its payment.
      if (!isDuplicate(err)) throw err;
      const winner = await this.activeFor(orderId);
      if (winner?.status === 'PENDING') return toView(await this.openAtProvider(winner));
      throw new OrderNotPayableError(order.status);
    }
    return toView(await this.openAtProvider(payment));
  }

  /** Opens the payment at the PSP unless that already happened (idempotent: our id is the key). */
  private async openAtProvider(p: PaymentEntity): Promise<PaymentEntity> {
    if (p.providerRef) return p;
    let providerRef: string;
    try {
      ({ providerRef } = await this.provider.createPayment({
        paymentId: p.id,
        orderId: p.orderId,
        amount: p.amountMinor,
        currency: p.currency,
      }));
    } catch (err) {
      this.logger.warn(`payment ${p.id} not opened at the provider: ${(err as Error).message}`);
      throw unavailable();
    }
    await this.db.writeRepo(PaymentEntity).update({ id: p.id, providerRef: IsNull() }, { providerRef });
    return (await this.find(p.id))!;
  }

  /** GET /payments/:id: the owner or an admin; anyone else gets the same 404 as a missing id. */
  async get(user: AuthUser, id: string): Promise<PaymentView> {
    const p = await this.find(id);
    if (!p || (p.userId !== user.id && user.role !== 'admin')) throw new PaymentNotFoundError();
    return toView(p);
  }

  /** The sandbox's checkout step: the owner "enters a card"; the result arrives by webhook. */
  async confirmSandbox(user: AuthUser, id: string, card: string): Promise<PaymentView> {
    const p = await this.find(id);
    if (!p || p.userId !== user.id || this.config.env === 'production') throw new PaymentNotFoundError();
    if (p.status !== 'PENDING') throw new PaymentNotPendingError(p.status);
    // Prevent rather than refund: no card is charged for an order that can no longer be paid.
    const order = await this.orders.get(user.id, p.orderId);
    if (order.status !== 'PENDING_PAYMENT') throw new OrderNotPayableError(order.status);
    const opened = await this.openAtProvider(p);
    await this.sandbox.confirm(
      { id: opened.id, orderId: opened.orderId, amount: opened.amountMinor, currency: opened.currency },
      card,
    );
    return toView(opened);
  }

  /** A verified webhook event, applied once. */
  async handleWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<WebhookResult> {
    const event = this.provider.verifyAndParseWebhook(rawBody, headers);
    return this.applyOnce(event, rawBody.toString('utf8'));
  }

  /**
   * Applies an event (a webhook, or one reconciliation derived from the PSP's state) once. The
   * event row is inserted first, in the same transaction as its effects: a replay, or a
   * concurrent duplicate (which waits on the row lock), hits its primary key and changes nothing.
   * Only that insert's duplicate-key error means "replay"; any other one fails the delivery.
   * What must follow the commit (the receipt, an automatic refund at the PSP) is registered as an
   * after-commit hook by applyEvent: the answer waits for it, and its failure is logged, never
   * returned (the event is applied; reconciliation and the outbox finish what a hook could not).
   */
  private async applyOnce(event: WebhookEvent, payload: string): Promise<WebhookResult> {
    const outcome = await this.db.transaction(async (em): Promise<WebhookResult['outcome']> => {
      const rec = Object.assign(new PaymentEventEntity(), {
        id: event.id,
        provider: this.provider.name,
        paymentId: null,
        type: event.type,
        outcome: 'applied' as PaymentEventOutcome,
        payload,
      });
      try {
        await em.getRepository(PaymentEventEntity).insert(rec);
      } catch (err) {
        if (isDuplicate(err)) return 'duplicate';
        throw err;
      }
      const result = await this.applyEvent(em, event);
      await em
        .getRepository(PaymentEventEntity)
        .update({ id: event.id }, { outcome: result.outcome, paymentId: result.paymentId });
      return result.outcome;
    });
    this.webhookOutcomes.inc({ outcome });
    if (outcome !== 'applied' && outcome !== 'duplicate')
      this.logger.warn(`payment event ${event.id} (${event.type}): ${outcome}`);
    return { eventId: event.id, outcome };
  }

  private async applyEvent(
    em: EntityManager,
    event: WebhookEvent,
  ): Promise<{ outcome: PaymentEventOutcome; paymentId: string | null }> {
    const repo = em.getRepository(PaymentEntity);
    const p = await repo.findOne({
      where: { id: event.data.paymentId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!p) return { outcome: 'unknown_payment', paymentId: null };
    const d = event.data;
    // A signed event that disagrees with our ledger is recorded and not acted on: money is
    // never moved on the PSP's word about an amount we did not ask for.
    if (d.orderId !== p.orderId || d.amount !== p.amountMinor || d.currency !== p.currency)
      return { outcome: 'mismatch', paymentId: p.id };

    if (event.type === 'payment.failed') {
      // Only PENDING → FAILED: a `failed` arriving after `succeeded` changes nothing.
      const res = await em.query(
        `UPDATE payments SET status = 'FAILED', active_order_id = NULL WHERE id = ? AND status = 'PENDING'`,
        [p.id],
      );
      return { outcome: affected(res) ? 'applied' : 'ignored_state', paymentId: p.id };
    }

    // A capture is money taken, whatever we recorded before: a failure reported first (a declined
    // card retried with a good one, or the two events out of order) or a cancellation that lost
    // the race against the capture. It pays the order if the order can still be paid, and is
    // refunded otherwise.
    const res = await em.query(
      `UPDATE payments SET status = 'SUCCEEDED' WHERE id = ? AND status IN ('PENDING', 'FAILED', 'CANCELLED')`,
      [p.id],
    );
    if (!affected(res)) return { outcome: 'ignored_state', paymentId: p.id };
    const paid = await this.orders.markPaid(p.orderId, { paymentId: p.id });
    if (paid === 'paid' || paid === 'already_paid') {
      this.db.afterCommit(() => this.receipts.sendFor(p.id));
      return { outcome: 'applied', paymentId: p.id };
    }
    // The money arrived for an order that expired, was cancelled or was paid by another payment
    // meanwhile: keep the capture on record and give it back, never a paid order without stock.
    const refund = await this.reserveRefund(em, p, p.amountMinor, 'order_not_payable', false);
    this.db.afterCommit(() => this.completeRefundOrRetryLater(refund.id));
    return { outcome: 'auto_refund', paymentId: p.id };
  }

  /**
   * Admin refund, full (amount omitted) or partial. The amount is reserved first (a conditional
   * UPDATE), then the PSP is asked. A refusal releases the reservation (409); an unknown outcome
   * (the PSP timed out, or our write after its answer failed) leaves the refund PENDING and
   * retries it in the background with the same idempotency key, so the money moves at most once.
   */
  async refund(paymentId: string, input: { amount?: number; restock?: boolean }): Promise<RefundView> {
    let orderId = '';
    const refund = await this.db.transaction(async (em) => {
      const p = await em.getRepository(PaymentEntity).findOne({ where: { id: paymentId } });
      if (!p) throw new PaymentNotFoundError();
      orderId = p.orderId;
      if (p.status !== 'SUCCEEDED' && p.status !== 'PARTIALLY_REFUNDED')
        throw new PaymentNotRefundableError(`The payment is ${p.status}`);
      const amount = input.amount ?? p.amountMinor - p.refundedMinor;
      if (!Number.isSafeInteger(amount) || amount <= 0)
        throw new PaymentNotRefundableError('Nothing left to refund on this payment');
      return this.reserveRefund(em, p, amount, 'requested', input.restock ?? false);
    });
    const done = await this.completeRefund(refund.id).catch(async (err: unknown) => {
      this.logger.warn(`refund ${refund.id} will be retried: ${(err as Error).message}`);
      await this.retryRefundLater(refund.id).catch(() => undefined); // reconciliation covers it
      return 'pending' as const;
    });
    if (done === 'declined') throw new PaymentNotRefundableError('The payment provider declined the refund');
    const row = await this.db.writeRepo(RefundEntity).findOneByOrFail({ id: refund.id });
    return withSplit(toRefundView(row), await this.orders.getForSystem(orderId));
  }

  /**
   * Reserves `amount` of the captured money for a refund with one conditional UPDATE, so
   * concurrent refunds can never add up to more than was captured.
   */
  private async reserveRefund(
    em: EntityManager,
    p: PaymentEntity,
    amount: number,
    reason: RefundEntity['reason'],
    restock: boolean,
  ): Promise<RefundEntity> {
    const res = await em.query(
      `UPDATE payments SET refunded_minor = refunded_minor + ?
        WHERE id = ? AND status IN ('SUCCEEDED', 'PARTIALLY_REFUNDED') AND refunded_minor + ? <= amount_minor`,
      [amount, p.id, amount],
    );
    if (!affected(res))
      throw new PaymentNotRefundableError(
        `Refunding ${amount} would exceed the captured amount not yet refunded`,
      );
    const refund = Object.assign(new RefundEntity(), {
      id: newId(),
      paymentId: p.id,
      amountMinor: amount,
      currency: p.currency,
      status: 'PENDING' as const,
      reason,
      restock,
      providerRef: null,
    });
    await em.getRepository(RefundEntity).insert(refund);
    return refund;
  }

  /**
   * Moves the money at the PSP, then records it. Safe to run twice and concurrently (the refund
   * id is the PSP's idempotency key; the conditional UPDATE records it once). Throws when the
   * outcome is unknown, so the caller retries; a refusal releases the reserved amount.
   */
  async completeRefund(refundId: string): Promise<'succeeded' | 'declined' | 'not_pending'> {
    const refund = await this.db.writeRepo(RefundEntity).findOneBy({ id: refundId });
    if (!refund || refund.status !== 'PENDING') return 'not_pending';
    const payment = await this.db.writeRepo(PaymentEntity).findOneByOrFail({ id: refund.paymentId });
    let refundRef: string;
    try {
      ({ refundRef } = await this.provider.refund({
        providerRef: payment.providerRef ?? payment.id,
        amount: refund.amountMinor,
        currency: refund.currency,
        idempotencyKey: refund.id,
      }));
    } catch (err) {
      if (!(err instanceof ProviderDeclinedError)) throw err;
      await this.failRefund(refund.id);
      this.logger.error(`refund ${refund.id} of payment ${payment.id} declined: ${err.reason}`);
      return 'declined';
    }
    await this.db.transaction(async (em) => {
      const done = await em.query(
        `UPDATE refunds SET status = 'SUCCEEDED', provider_ref = ? WHERE id = ? AND status = 'PENDING'`,
        [refundRef, refund.id],
      );
      if (!affected(done)) return;
      const p = await em
        .getRepository(PaymentEntity)
        .findOneOrFail({ where: { id: payment.id }, lock: { mode: 'pessimistic_write' } });
      const rows = (await em.query(
        `SELECT COALESCE(SUM(amount_minor), 0) AS total FROM refunds WHERE payment_id = ? AND status = 'SUCCEEDED'`,
        [p.id],
      )) as { total: string | number }[];
      const refunded = Number(rows[0].total);
      const full = refunded >= p.amountMinor;
      await em.query(`UPDATE payments SET status = ? WHERE id = ?`, [
        full ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
        p.id,
      ]);
      // An expired order was never paid: only refunds of paid orders move the order.
      if (full && refund.reason === 'requested') {
        const r = await this.orders.refund(p.orderId, { paymentId: p.id, restock: refund.restock });
        if (r !== 'refunded')
          this.logger.warn(`order ${p.orderId} not refundable after full refund of ${p.id}`);
      }
    });
    return 'succeeded';
  }

  private async completeRefundOrRetryLater(refundId: string): Promise<void> {
    try {
      await this.completeRefund(refundId);
    } catch (err) {
      this.logger.warn(`automatic refund ${refundId} will be retried: ${(err as Error).message}`);
      await this.retryRefundLater(refundId);
    }
  }

  /**
   * The jobId makes a second schedule of the same refund a no-op; attempts, backoff and dead
   * letters are the queue's owed-job policy (queues.ts); reconciliation is the backstop.
   */
  private async retryRefundLater(refundId: string): Promise<void> {
    await this.queue.add(COMPLETE_REFUND_JOB, traced({ refundId }), {
      jobId: `refund:${refundId}`,
      delay: 5000,
    });
  }

  /**
   * The order was paid, expired or cancelled: its other PENDING payments must not be captured
   * any more. Each is cancelled at the PSP; one the PSP had captured first stays PENDING until
   * its success event arrives (or reconciliation fetches it), which refunds it.
   */
  async closeOpenPayments(orderId: string, keep?: string): Promise<void> {
    const open = await this.db
      .writeRepo(PaymentEntity)
      .findBy({ orderId, status: In(['PENDING', 'FAILED']) });
    for (const p of open) {
      if (p.id === keep) continue;
      if (p.status === 'PENDING') await this.cancelAtProvider(p);
      // A declined payment stays open at a real PSP (the client could try another card there):
      // close it too. Its status here stays FAILED; a capture that won the race still arrives
      // as a success event and is refunded.
      else if (p.providerRef)
        await this.provider.cancelPayment({ providerRef: p.providerRef }).catch(ignoreDeclined);
    }
  }

  private async cancelAtProvider(p: PaymentEntity): Promise<void> {
    let result: 'canceled' | 'captured' = 'canceled';
    if (p.providerRef) {
      try {
        result = await this.provider.cancelPayment({ providerRef: p.providerRef });
      } catch (err) {
        if (!(err instanceof ProviderDeclinedError)) throw err; // unknown: retried by the caller
      }
    }
    if (result === 'canceled')
      await this.db
        .writeRepo(PaymentEntity)
        .update({ id: p.id, status: 'PENDING' }, { status: 'CANCELLED', activeOrderId: null });
  }

  /**
   * The backstop for everything a lost message would leave half done; run by a repeatable job
   * on the worker, safe on several workers at once. (1) Refunds still PENDING: finished with
   * their idempotency key. (2) Payments still PENDING long after their last change: the PSP is
   * asked, and what it knows is applied as an event of its own (`reconcile:<paymentId>:<status>`,
   * deduplicated like a webhook): a capture whose webhook was lost pays the order or is
   * refunded, a failure fails the payment, an open one on an order that can no longer be paid
   * is cancelled. Each run takes the oldest rows first, {@link RECONCILE}.batch of each kind.
   */
  async reconcile(
    opts: { refundAfterMs?: number; paymentAfterMs?: number } = {},
  ): Promise<{ refunds: number; payments: number }> {
    // Ages are measured on the database's clock, which wrote the timestamps (its time zone
    // need not be the app's).
    const olderThan = (ms: number) =>
      Raw((col) => `${col} < NOW(3) - INTERVAL :us MICROSECOND`, { us: Math.max(0, ms) * 1000 });
    const refunds = await this.db.writeRepo(RefundEntity).find({
      where: { status: 'PENDING', updatedAt: olderThan(opts.refundAfterMs ?? RECONCILE.refundAfterMs) },
      order: { updatedAt: 'ASC' },
      take: RECONCILE.batch,
    });
    // Rows still PENDING after their turn go to the back of the line (their updated_at moves),
    // so rows that stay unresolved run after run never hold up the ones behind them. One
    // statement per table; best effort: a failure only leaves the rows where they were.
    const later = async (table: 'refunds' | 'payments', ids: string[]) => {
      if (!ids.length) return;
      await this.db
        .execute(`UPDATE ${table} SET updated_at = NOW(3) WHERE id IN (?) AND status = 'PENDING'`, [ids])
        .catch((err: Error) => this.logger.warn(`reconcile: ${table} not moved back: ${err.message}`));
    };
    for (const r of refunds)
      await this.completeRefund(r.id).catch((err: Error) =>
        this.logger.warn(`reconcile: refund ${r.id} still pending: ${err.message}`),
      );
    await later(
      'refunds',
      refunds.map((r) => r.id),
    );
    const payments = await this.db.writeRepo(PaymentEntity).find({
      where: { status: 'PENDING', updatedAt: olderThan(opts.paymentAfterMs ?? RECONCILE.paymentAfterMs) },
      order: { updatedAt: 'ASC' },
      take: RECONCILE.batch,
    });
    for (const p of payments)
      await this.reconcilePayment(p).catch((err: Error) =>
        this.logger.warn(`reconcile: payment ${p.id} unresolved: ${err.message}`),
      );
    // Those still PENDING are asked again in RECONCILE.paymentAfterMs.
    await later(
      'payments',
      payments.map((p) => p.id),
    );
    return { refunds: refunds.length, payments: payments.length };
  }

  private async reconcilePayment(p: PaymentEntity): Promise<void> {
    const order = await this.orders.getForSystem(p.orderId);
    const payable = order?.status === 'PENDING_PAYMENT';
    if (!p.providerRef) {
      if (payable) await this.openAtProvider(p);
      else await this.cancelAtProvider(p);
      return;
    }
    const atPsp = await this.provider.retrievePayment({ providerRef: p.providerRef });
    if (!atPsp || atPsp.status === 'canceled') return this.cancelAtProvider({ ...p, providerRef: null });
    if (atPsp.status === 'pending') {
      if (!payable) await this.cancelAtProvider(p);
      return;
    }
    const event: WebhookEvent = {
      id: `reconcile:${p.id}:${atPsp.status}`,
      type: atPsp.status === 'succeeded' ? 'payment.succeeded' : 'payment.failed',
      data: { paymentId: p.id, orderId: p.orderId, amount: atPsp.amount, currency: atPsp.currency },
    };
    await this.applyOnce(event, JSON.stringify({ source: 'reconcile', ...event }));
  }

  private async failRefund(refundId: string): Promise<void> {
    await this.db.transaction(async (em) => {
      const r = await em.getRepository(RefundEntity).findOneBy({ id: refundId });
      if (!r) return;
      const res = await em.query(`UPDATE refunds SET status = 'FAILED' WHERE id = ? AND status = 'PENDING'`, [
        refundId,
      ]);
      if (affected(res))
        await em.query(`UPDATE payments SET refunded_minor = refunded_minor - ? WHERE id = ?`, [
          r.amountMinor,
          r.paymentId,
        ]);
    });
  }

  async refundsOf(paymentId: string): Promise<RefundView[]> {
    const p = await this.find(paymentId);
    if (!p) throw new PaymentNotFoundError();
    const rows = await this.db
      .writeRepo(RefundEntity)
      .find({ where: { paymentId }, order: { createdAt: 'ASC' } });
    const order = await this.orders.getForSystem(p.orderId);
    return rows.map((r) => withSplit(toRefundView(r), order));
  }

  private activeFor(orderId: string): Promise<PaymentEntity | null> {
    return this.db.writeRepo(PaymentEntity).findOneBy({ activeOrderId: orderId });
  }

  /**
   * Payment reads go to the primary: clients poll a payment for the result of a webhook they
   * did not send, so read-your-writes cannot cover them, and a stale PENDING would mislead.
   */
  private find(id: string): Promise<PaymentEntity | null> {
    if (!isUuid(id)) return Promise.resolve(null);
    return this.db.primaryReader().getRepository(PaymentEntity).findOneBy({ id });
  }
}

export function toView(p: PaymentEntity): PaymentView {
  return {
    id: p.id,
    orderId: p.orderId,
    userId: p.userId,
    status: p.status,
    amount: p.amountMinor,
    refundedAmount: p.refundedMinor,
    currency: p.currency,
    provider: p.provider,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

/** The refund's split over the order's goods, shipping and tax, when the order has a breakdown. */
function withSplit(view: RefundView, order: OrderView | undefined): RefundView {
  const split = order && refundSplitOf(order, view.amount);
  return split ? { ...view, split } : view;
}

function toRefundView(r: RefundEntity): RefundView {
  return {
    id: r.id,
    paymentId: r.paymentId,
    amount: r.amountMinor,
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    restock: r.restock,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}
