import { Injectable, Logger } from '@nestjs/common';
import { OrdersService } from '../orders';
import { PaymentProvider, WebhookEvent } from './payment-provider';
import { PaymentRefunds } from './payment-refunds.service';
import { PaymentWebhooks } from './payment-webhooks.service';
import { PaymentEntity } from './payment.entity';
import { PaymentsRepository } from './payments.repository';
import { PaymentsService } from './payments.service';

/** When a PENDING record is old enough to ask about (see {@link PaymentReconciliation.reconcile}). */
export const RECONCILE = {
  /** A refund still PENDING this long lost its retry (a crash, Redis down): finish it. */
  refundAfterMs: 60_000,
  /** A payment still PENDING this long has probably lost its webhook: ask the PSP. */
  paymentAfterMs: 15 * 60_000,
  batch: 100,
};

/**
 * The backstop for everything a lost message would leave half done; run by a repeatable job on
 * the worker, safe on several workers at once.
 */
@Injectable()
export class PaymentReconciliation {
  private readonly logger = new Logger('PaymentReconciliation');

  constructor(
    private readonly repo: PaymentsRepository,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly payments: PaymentsService,
    private readonly webhooks: PaymentWebhooks,
    private readonly refunds: PaymentRefunds,
  ) {}

  /**
   * (1) Refunds still PENDING: finished with their idempotency key. (2) Payments still PENDING
   * long after their last change: the PSP is asked, and what it knows is applied as an event of
   * its own (`reconcile:<paymentId>:<status>`, deduplicated like a webhook): a capture whose
   * webhook was lost pays the order or is refunded, a failure fails the payment, an open one on an
   * order that can no longer be paid is cancelled. Each run takes the oldest rows first,
   * {@link RECONCILE}.batch of each kind; rows still PENDING after their turn go to the back of
   * the line (their updated_at moves), so rows that stay unresolved run after run never hold up
   * the ones behind them.
   */
  async reconcile(
    opts: { refundAfterMs?: number; paymentAfterMs?: number } = {},
  ): Promise<{ refunds: number; payments: number }> {
    const refunds = await this.repo.pendingRefunds({
      olderThanMs: opts.refundAfterMs ?? RECONCILE.refundAfterMs,
      limit: RECONCILE.batch,
    });
    for (const r of refunds)
      await this.refunds
        .complete(r.id)
        .catch((err: Error) => this.logger.warn(`reconcile: refund ${r.id} still pending: ${err.message}`));
    await this.postpone('refunds', () => this.repo.postponeRefunds(refunds.map((r) => r.id)));

    const payments = await this.repo.pendingPayments({
      olderThanMs: opts.paymentAfterMs ?? RECONCILE.paymentAfterMs,
      limit: RECONCILE.batch,
    });
    for (const p of payments)
      await this.reconcilePayment(p).catch((err: Error) =>
        this.logger.warn(`reconcile: payment ${p.id} unresolved: ${err.message}`),
      );
    // Those still PENDING are asked again in RECONCILE.paymentAfterMs.
    await this.postpone('payments', () => this.repo.postponePayments(payments.map((p) => p.id)));
    return { refunds: refunds.length, payments: payments.length };
  }

  /** Best effort: a failure only leaves the rows where they were in the line. */
  private async postpone(what: string, move: () => Promise<void>): Promise<void> {
    await move().catch((err: Error) => this.logger.warn(`reconcile: ${what} not moved back: ${err.message}`));
  }

  private async reconcilePayment(p: PaymentEntity): Promise<void> {
    const order = await this.orders.getForSystem(p.orderId);
    const payable = order?.status === 'PENDING_PAYMENT';
    if (!p.providerRef) {
      if (payable) await this.payments.openAtProvider(p);
      else await this.payments.cancelAtProvider(p);
      return;
    }
    const atPsp = await this.provider.retrievePayment({ providerRef: p.providerRef });
    if (!atPsp || atPsp.status === 'canceled')
      return this.payments.cancelAtProvider({ id: p.id, providerRef: null });
    if (atPsp.status === 'pending') {
      if (!payable) await this.payments.cancelAtProvider(p);
      return;
    }
    const event: WebhookEvent = {
      id: `reconcile:${p.id}:${atPsp.status}`,
      type: atPsp.status === 'succeeded' ? 'payment.succeeded' : 'payment.failed',
      data: { paymentId: p.id, orderId: p.orderId, amount: atPsp.amount, currency: atPsp.currency },
    };
    await this.webhooks.applyOnce(event, JSON.stringify({ source: 'reconcile', ...event }));
  }
}
