import { Injectable, Logger } from '@nestjs/common';
import { MailService } from '../notifications';
import { UsersService } from '../users';
import { PaymentsRepository } from './payments.repository';

/**
 * Sends the payment receipt once a capture is committed: right after the webhook's commit (fast
 * path) and again from the order's `order.paid` outbox event (PaymentsSubscriptions: survives a
 * crash in between).
 * MailService's dedupe key `payment-receipt:<paymentId>` makes every call after the first a no-op.
 */
@Injectable()
export class ReceiptMailer {
  private readonly logger = new Logger('PaymentReceipts');

  constructor(
    private readonly repo: PaymentsRepository,
    private readonly users: UsersService,
    private readonly mail: MailService,
  ) {}

  /** `rethrow` lets the outbox retry when the mail could not be queued. */
  async sendFor(paymentId: string, opts: { rethrow?: boolean } = {}): Promise<void> {
    try {
      const p = await this.repo.find(paymentId);
      if (!p) return;
      const user = await this.users.findById(p.userId, { primary: true });
      if (!user) return;
      await this.mail.send({
        template: 'payment-receipt',
        to: user.email,
        dedupeKey: `payment-receipt:${p.id}`,
        data: { paymentId: p.id, orderId: p.orderId, amount: p.amountMinor, currency: p.currency },
      });
    } catch (err) {
      this.logger.error(`receipt for payment ${paymentId} not queued: ${(err as Error).message}`);
      if (opts.rethrow) throw err;
    }
  }
}
