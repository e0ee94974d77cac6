import { Injectable, Logger } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { MetricsService } from '../infra/observability/metrics.service';
import { OrdersService } from '../orders';
import { PaymentEventOutcome } from './payment-event.entity';
import { PaymentProvider, WebhookEvent } from './payment-provider';
import { PaymentRefunds } from './payment-refunds.service';
import { PaymentsRepository } from './payments.repository';
import type { WebhookResult } from './payments.types';
import { ReceiptMailer } from './receipt-mailer';

type Applied = { outcome: PaymentEventOutcome; paymentId: string | null };

/**
 * What the PSP reports, applied once: a webhook, or an event reconciliation derives from the
 * PSP's state. Each event moves the payment along payment-state.ts with one conditional UPDATE,
 * in the transaction that records the event.
 */
@Injectable()
export class PaymentWebhooks {
  private readonly logger = new Logger('PaymentWebhooks');
  private readonly outcomes;

  constructor(
    private readonly db: DbRouter,
    private readonly repo: PaymentsRepository,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly refunds: PaymentRefunds,
    private readonly receipts: ReceiptMailer,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter(
      'shop_payment_events_total',
      'Payment events received (webhooks and reconciliation) by what they did',
      ['outcome'],
    );
  }

  /** A verified webhook event, applied once. */
  async handle(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<WebhookResult> {
    const event = this.provider.verifyAndParseWebhook(rawBody, headers);
    return this.applyOnce(event, rawBody.toString('utf8'));
  }

  /**
   * Applies an event once. The event row is inserted first, in the same transaction as its
   * effects: a replay, or a concurrent duplicate (which waits on the row lock), hits its primary
   * key and changes nothing. Only that insert's duplicate-key error means "replay"; any other one
   * fails the delivery. What must follow the commit (the receipt, an automatic refund at the PSP)
   * is an after-commit hook: the answer waits for it, and its failure is logged, never returned
   * (the event is applied; reconciliation and the outbox finish what a hook could not).
   */
  async applyOnce(event: WebhookEvent, payload: string): Promise<WebhookResult> {
    const outcome = await this.db.transaction(async (): Promise<WebhookResult['outcome']> => {
      const fresh = await this.repo.recordEvent({
        id: event.id,
        provider: this.provider.name,
        paymentId: null,
        type: event.type,
        outcome: 'applied',
        payload,
      });
      if (!fresh) return 'duplicate';
      const result = await this.apply(event);
      await this.repo.setEventOutcome(event.id, result.outcome, result.paymentId);
      return result.outcome;
    });
    this.outcomes.inc({ outcome });
    if (outcome !== 'applied' && outcome !== 'duplicate')
      this.logger.warn(`payment event ${event.id} (${event.type}): ${outcome}`);
    return { eventId: event.id, outcome };
  }

  private async apply(event: WebhookEvent): Promise<Applied> {
    const p = await this.repo.lock(event.data.paymentId);
    if (!p) return { outcome: 'unknown_payment', paymentId: null };
    const d = event.data;
    // A signed event that disagrees with our ledger is recorded and not acted on: money is
    // never moved on the PSP's word about an amount we did not ask for.
    if (d.orderId !== p.orderId || d.amount !== p.amountMinor || d.currency !== p.currency)
      return { outcome: 'mismatch', paymentId: p.id };

    if (event.type === 'payment.failed') {
      // Only PENDING → FAILED: a `failed` arriving after `succeeded` changes nothing.
      const failed = await this.repo.transition(p.id, 'FAILED');
      return { outcome: failed ? 'applied' : 'ignored_state', paymentId: p.id };
    }

    // A capture is money taken, whatever we recorded before (see payment-state.ts): it pays the
    // order if the order can still be paid, and is refunded otherwise.
    if (!(await this.repo.transition(p.id, 'SUCCEEDED')))
      return { outcome: 'ignored_state', paymentId: p.id };
    const paid = await this.orders.markPaid(p.orderId, { paymentId: p.id });
    if (paid === 'paid' || paid === 'already_paid') {
      this.db.afterCommit(() => this.receipts.sendFor(p.id));
      return { outcome: 'applied', paymentId: p.id };
    }
    // The money arrived for an order that expired, was cancelled or was paid by another payment
    // meanwhile: keep the capture on record and give it back, never a paid order without stock.
    const refund = await this.refunds.reserve(p, p.amountMinor, 'order_not_payable', false);
    this.db.afterCommit(() => this.refunds.completeOrRetryLater(refund.id));
    return { outcome: 'auto_refund', paymentId: p.id };
  }
}
