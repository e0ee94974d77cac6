import { Injectable, OnModuleInit } from '@nestjs/common';
import { ORDER_EVENTS, OrderEventsBus } from '../orders';
import { PaymentsService } from './payments.service';
import { ReceiptMailer } from './receipt-mailer';

/**
 * Every order event the payments module reacts to (the convention: `<module>.subscriptions.ts`).
 * They come from the outbox, so none is lost; each handler is safe to run twice.
 */
@Injectable()
export class PaymentsSubscriptions implements OnModuleInit {
  constructor(
    private readonly bus: OrderEventsBus,
    private readonly payments: PaymentsService,
    private readonly receipts: ReceiptMailer,
  ) {}

  onModuleInit(): void {
    // The receipt again (the webhook's commit sent it first; the mail queue dedupes): survives a
    // crash in between. `rethrow` lets the outbox retry when the mail could not be queued.
    this.bus.on(ORDER_EVENTS.paid, async (e) => {
      if (e.paymentId) await this.receipts.sendFor(e.paymentId, { rethrow: true });
    });
    // Once an order is paid, expired or cancelled, its other open payments are cancelled at the
    // PSP, so no card is charged for it afterwards.
    for (const type of [ORDER_EVENTS.paid, ORDER_EVENTS.expired, ORDER_EVENTS.cancelled])
      this.bus.on(type, (e) => this.payments.closeOpenPayments(e.orderId, e.paymentId ?? undefined));
  }
}
