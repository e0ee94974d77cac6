import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import type { EntityManager } from 'typeorm';
import type { AuthUser } from '../common/auth';
import { UnavailableError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import { OrdersService } from '../orders';
import { PaymentEventEntity, PaymentEventOutcome } from './payment-event.entity';
import { PaymentProvider, WebhookEvent } from './payment-provider';
import { PaymentEntity } from './payment.entity';
import {
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
}

/** Job on the `payments` queue that finishes an automatic refund the PSP did not take at once. */
export const COMPLETE_REFUND_JOB = 'complete-refund';

export type WebhookResult = { eventId: string; outcome: PaymentEventOutcome | 'duplicate' };

const isDuplicate = (err: unknown): boolean => {
  const e = err as { code?: string; driverError?: { code?: string } };
  return (e.code ?? e.driverError?.code) === 'ER_DUP_ENTRY';
};

const affected = (res: unknown): number => {
  // TypeORM's query() on mysql2 returns the OkPacket for UPDATE/INSERT.
  const r = res as { affectedRows?: number } | [unknown, number];
  if (Array.isArray(r)) return Number(r[1] ?? 0);
  return Number(r?.affectedRows ?? 0);
};

/**
 * Payments: creation, the webhook state machine, refunds. Every money-moving change is a
 * conditional UPDATE whose affected-row count decides, inside DbRouter.transaction; calls to the
 * provider happen outside transactions (they are slow and cannot be rolled back) and are made
 * idempotent with our ids as their idempotency keys.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('Payments');

  constructor(
    private readonly db: DbRouter,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly sandbox: SandboxPsp,
    private readonly receipts: ReceiptMailer,
    private readonly config: AppConfig,
    @InjectQueue(QUEUES.payments) private readonly queue: Queue,
  ) {}

  /** POST /payments: one active payment per order; a repeated call returns the existing one. */
  async create(user: AuthUser, orderId: string): Promise<PaymentView> {
    const order = await this.orders.get(user.id, orderId); // another user's order → 404
    const existing = await this.activeFor(orderId);
    if (existing?.status === 'PENDING') return toView(existing);
    if (existing || order.status !== 'PENDING_PAYMENT') throw new OrderNotPayableError(order.status);

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
      if (winner?.status === 'PENDING') return toView(winner);
      throw new OrderNotPayableError(order.status);
    }
    const { providerRef } = await this.provider.createPayment({
      paymentId: payment.id,
      amount: payment.amountMinor,
      currency: payment.currency,
    });
    await this.db.writeRepo(PaymentEntity).update({ id: payment.id }, { providerRef });
    return toView((await this.find(payment.id))!);
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
    await this.sandbox.confirm(
      { id: p.id, orderId: p.orderId, amount: p.amountMinor, currency: p.currency },
      card,
    );
    return toView(p);
  }

  /**
   * Applies a verified webhook event once. The event row is inserted in the same transaction as
   * its effects, so a replay (or a concurrent duplicate, which waits on the row lock) hits the
   * primary key and changes nothing.
   */
  async handleWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<WebhookResult> {
    const event = this.provider.verifyAndParseWebhook(rawBody, headers);
    let after: (() => Promise<void>) | undefined;
    let outcome: PaymentEventOutcome;
    try {
      outcome = await this.db.transaction(async (em) => {
        const rec = Object.assign(new PaymentEventEntity(), {
          id: event.id,
          provider: this.provider.name,
          paymentId: null,
          type: event.type,
          outcome: 'applied' as PaymentEventOutcome,
          payload: rawBody.toString('utf8'),
        });
        await em.getRepository(PaymentEventEntity).insert(rec);
        const result = await this.applyEvent(em, event);
        after = result.after;
        await em
          .getRepository(PaymentEventEntity)
          .update({ id: event.id }, { outcome: result.outcome, paymentId: result.paymentId });
        return result.outcome;
      });
    } catch (err) {
      if (isDuplicate(err)) return { eventId: event.id, outcome: 'duplicate' };
      throw err;
    }
    if (outcome !== 'applied') this.logger.warn(`webhook ${event.id} (${event.type}): ${outcome}`);
    if (after) await after();
    return { eventId: event.id, outcome };
  }

  private async applyEvent(
    em: EntityManager,
    event: WebhookEvent,
  ): Promise<{ outcome: PaymentEventOutcome; paymentId: string | null; after?: () => Promise<void> }> {
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

    const res = await em.query(
      `UPDATE payments SET status = 'SUCCEEDED' WHERE id = ? AND status = 'PENDING'`,
      [p.id],
    );
    if (!affected(res)) return { outcome: 'ignored_state', paymentId: p.id };
    const paid = await this.orders.markPaid(p.orderId, { paymentId: p.id });
    if (paid === 'paid' || paid === 'already_paid') {
      return { outcome: 'applied', paymentId: p.id, after: () => this.receipts.sendFor(p.id) };
    }
    // The money arrived for an order that expired or was cancelled meanwhile (its stock is
    // released): keep the capture on record and give it back, never a paid order without stock.
    const refund = await this.reserveRefund(em, p, p.amountMinor, 'order_not_payable', false);
    return {
      outcome: 'auto_refund',
      paymentId: p.id,
      after: () => this.completeRefundOrRetryLater(refund.id),
    };
  }

  /** Admin refund, full (amount omitted) or partial. */
  async refund(paymentId: string, input: { amount?: number; restock?: boolean }): Promise<RefundView> {
    const refund = await this.db.transaction(async (em) => {
      const p = await em.getRepository(PaymentEntity).findOne({ where: { id: paymentId } });
      if (!p) throw new PaymentNotFoundError();
      if (p.status !== 'SUCCEEDED' && p.status !== 'PARTIALLY_REFUNDED')
        throw new PaymentNotRefundableError(`The payment is ${p.status}`);
      const amount = input.amount ?? p.amountMinor - p.refundedMinor;
      if (!Number.isSafeInteger(amount) || amount <= 0)
        throw new PaymentNotRefundableError('Nothing left to refund on this payment');
      return this.reserveRefund(em, p, amount, 'requested', input.restock ?? false);
    });
    await this.completeRefund(refund.id).catch(async (err: unknown) => {
      // The PSP did not answer: release the reservation so the amount can be refunded again.
      await this.failRefund(refund.id);
      this.logger.warn(`refund ${refund.id} failed at the provider: ${(err as Error).message}`);
      throw new UnavailableError(
        'The payment provider did not accept the refund, retry later',
        'PROVIDER_UNAVAILABLE',
      );
    });
    return toRefundView((await this.db.writeRepo(RefundEntity).findOneByOrFail({ id: refund.id }))!);
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

  /** Moves the money at the PSP, then records it. Safe to run twice (idempotency key + conditional UPDATE). */
  async completeRefund(refundId: string): Promise<void> {
    const refund = await this.db.writeRepo(RefundEntity).findOneBy({ id: refundId });
    if (!refund || refund.status !== 'PENDING') return;
    const payment = await this.db.writeRepo(PaymentEntity).findOneByOrFail({ id: refund.paymentId });
    const { refundRef } = await this.provider.refund({
      providerRef: payment.providerRef ?? payment.id,
      amount: refund.amountMinor,
      currency: refund.currency,
      idempotencyKey: refund.id,
    });
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
  }

  private async completeRefundOrRetryLater(refundId: string): Promise<void> {
    try {
      await this.completeRefund(refundId);
    } catch (err) {
      this.logger.warn(`automatic refund ${refundId} will be retried: ${(err as Error).message}`);
      // The jobId makes a second schedule of the same refund a no-op.
      await this.queue.add(COMPLETE_REFUND_JOB, traced({ refundId }), {
        jobId: `refund:${refundId}`,
        attempts: 20,
        backoff: { type: 'exponential', delay: 5000 },
      });
    }
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
    if (!(await this.find(paymentId))) throw new PaymentNotFoundError();
    const rows = await this.db
      .writeRepo(RefundEntity)
      .find({ where: { paymentId }, order: { createdAt: 'ASC' } });
    return rows.map(toRefundView);
  }

  private activeFor(orderId: string): Promise<PaymentEntity | null> {
    return this.db
      .writeRepo(PaymentEntity)
      .createQueryBuilder('p')
      .where('p.orderId = :orderId', { orderId })
      .andWhere(`p.status <> 'FAILED'`)
      .getOne();
  }

  /**
   * Payment reads go to the primary: clients poll a payment for the result of a webhook they
   * did not send, so read-your-writes cannot cover them, and a stale PENDING would mislead.
   */
  private find(id: string): Promise<PaymentEntity | null> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return Promise.resolve(null);
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
