import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { newId } from '../common/ids';
import { DbRouter } from '../infra/database/db-router.service';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import { refundSplitOf } from '../checkout';
import { OrdersService } from '../orders';
import type { OrderView } from '../orders';
import { PaymentProvider, ProviderDeclinedError } from './payment-provider';
import { REFUNDABLE, afterRefund } from './payment-state';
import { PaymentEntity } from './payment.entity';
import { PaymentNotFoundError, PaymentNotRefundableError } from './payments.errors';
import { PaymentsRepository } from './payments.repository';
import type { RefundView } from './payments.types';
import { RefundEntity, RefundReason } from './refund.entity';

/** Job on the `payments` queue that finishes a refund the PSP did not take at once. */
export const COMPLETE_REFUND_JOB = 'complete-refund';

/** How long a refund whose outcome is unknown waits before its retry. */
const RETRY_DELAY_MS = 5000;

/**
 * Refunds: the amount is reserved on the payment first (a conditional UPDATE, so concurrent
 * refunds never add up to more than was captured), then the PSP is asked with the refund id as
 * its idempotency key, so the money moves at most once however often a refund is retried.
 */
@Injectable()
export class PaymentRefunds {
  private readonly logger = new Logger('PaymentRefunds');

  constructor(
    private readonly db: DbRouter,
    private readonly repo: PaymentsRepository,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    @InjectQueue(QUEUES.payments) private readonly queue: Queue,
  ) {}

  /**
   * Admin refund, full (amount omitted) or partial. A refusal releases the reservation (409); an
   * unknown outcome (the PSP timed out, or our write after its answer failed) leaves the refund
   * PENDING and retries it in the background.
   */
  async refund(paymentId: string, input: { amount?: number; restock?: boolean }): Promise<RefundView> {
    let orderId = '';
    const refund = await this.db.transaction(async () => {
      const p = await this.repo.find(paymentId);
      if (!p) throw new PaymentNotFoundError();
      orderId = p.orderId;
      if (!REFUNDABLE.includes(p.status)) throw new PaymentNotRefundableError(`The payment is ${p.status}`);
      const amount = input.amount ?? p.amountMinor - p.refundedMinor;
      if (!Number.isSafeInteger(amount) || amount <= 0)
        throw new PaymentNotRefundableError('Nothing left to refund on this payment');
      return this.reserve(p, amount, 'requested', input.restock ?? false);
    });
    const done = await this.complete(refund.id).catch(async (err: unknown) => {
      this.logger.warn(`refund ${refund.id} will be retried: ${(err as Error).message}`);
      await this.retryLater(refund.id).catch(() => undefined); // reconciliation covers it
      return 'pending' as const;
    });
    if (done === 'declined') throw new PaymentNotRefundableError('The payment provider declined the refund');
    const view = toRefundView((await this.repo.findRefund(refund.id))!);
    return withSplit(view, await this.orders.getForSystem(orderId));
  }

  /**
   * Reserves `amount` of the payment's captured money and records the PENDING refund. In the
   * caller's transaction; throws PAYMENT_NOT_REFUNDABLE when the amount is not left to refund.
   */
  async reserve(
    p: PaymentEntity,
    amount: number,
    reason: RefundReason,
    restock: boolean,
  ): Promise<RefundEntity> {
    if (!(await this.repo.reserveRefund(p.id, amount)))
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
    await this.repo.insertRefund(refund);
    return refund;
  }

  /**
   * Moves the money at the PSP, then records it. Safe to run twice and concurrently (the refund
   * id is the PSP's idempotency key; the conditional UPDATE records it once). Throws when the
   * outcome is unknown, so the caller retries; a refusal releases the reserved amount.
   */
  async complete(refundId: string): Promise<'succeeded' | 'declined' | 'not_pending'> {
    const refund = await this.repo.findRefund(refundId);
    if (!refund || refund.status !== 'PENDING') return 'not_pending';
    const payment = await this.repo.find(refund.paymentId);
    if (!payment) throw new Error(`refund ${refund.id}: payment ${refund.paymentId} not found`);
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
      await this.fail(refund.id);
      this.logger.error(`refund ${refund.id} of payment ${payment.id} declined: ${err.reason}`);
      return 'declined';
    }
    await this.db.transaction(async () => {
      if (!(await this.repo.transitionRefund(refund.id, 'SUCCEEDED', refundRef))) return;
      // The payment's row lock orders concurrent completions: each sums the refunds done so far.
      const p = await this.repo.lock(payment.id);
      if (!p) throw new Error(`refund ${refund.id}: payment ${payment.id} not found`);
      const status = afterRefund(await this.repo.succeededRefundTotal(p.id), p.amountMinor);
      if (!(await this.repo.transition(p.id, status)))
        this.logger.error(`payment ${p.id} is ${p.status}: refund ${refund.id} recorded, status left`);
      // An expired order was never paid: only refunds of paid orders move the order.
      if (status === 'REFUNDED' && refund.reason === 'requested') {
        const r = await this.orders.refund(p.orderId, { paymentId: p.id, restock: refund.restock });
        if (r !== 'refunded')
          this.logger.warn(`order ${p.orderId} not refundable after full refund of ${p.id}`);
      }
    });
    return 'succeeded';
  }

  /** For after-commit hooks: a refund whose outcome is unknown is queued for a retry. */
  async completeOrRetryLater(refundId: string): Promise<void> {
    try {
      await this.complete(refundId);
    } catch (err) {
      this.logger.warn(`automatic refund ${refundId} will be retried: ${(err as Error).message}`);
      await this.retryLater(refundId);
    }
  }

  async refundsOf(paymentId: string): Promise<RefundView[]> {
    const p = await this.repo.find(paymentId);
    if (!p) throw new PaymentNotFoundError();
    const order = await this.orders.getForSystem(p.orderId);
    return (await this.repo.refundsOf(paymentId)).map((r) => withSplit(toRefundView(r), order));
  }

  /**
   * The jobId makes a second schedule of the same refund a no-op; attempts, backoff and dead
   * letters are the queue's owed-job policy (queues.ts); reconciliation is the backstop.
   */
  private async retryLater(refundId: string): Promise<void> {
    await this.queue.add(COMPLETE_REFUND_JOB, traced({ refundId }), {
      jobId: `refund:${refundId}`,
      delay: RETRY_DELAY_MS,
    });
  }

  /** The PSP refused: the refund FAILED once, and its reservation is given back once. */
  private async fail(refundId: string): Promise<void> {
    await this.db.transaction(async () => {
      const r = await this.repo.findRefund(refundId);
      if (!r) return;
      if (await this.repo.transitionRefund(refundId, 'FAILED'))
        await this.repo.releaseRefund(r.paymentId, r.amountMinor);
    });
  }
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
