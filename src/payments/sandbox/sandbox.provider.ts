import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../infra/config/app-config';
import { PaymentProvider, WebhookEvent } from '../payment-provider';
import { verifyWebhookSignature } from '../webhook-signature';

export class InvalidEventError extends DomainError {
  constructor(message: string) {
    super('invalid', 'INVALID_EVENT', message);
  }
}

const EVENT_TYPES = new Set(['payment.succeeded', 'payment.failed']);

/**
 * The sandbox PSP seen from our side of the port. Payments and refunds "exist" at the sandbox
 * as deterministic references; webhooks are authenticated with PAYMENT_WEBHOOK_SECRET exactly
 * as a real provider's would be.
 */
@Injectable()
export class SandboxProvider extends PaymentProvider {
  readonly name = 'sandbox';

  constructor(private readonly config: AppConfig) {
    super();
  }

  createPayment(input: { paymentId: string }): Promise<{ providerRef: string }> {
    return Promise.resolve({ providerRef: `sbx_pi_${input.paymentId}` });
  }

  refund(input: { idempotencyKey: string }): Promise<{ refundRef: string }> {
    return Promise.resolve({ refundRef: `sbx_re_${input.idempotencyKey}` });
  }

  verifyAndParseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookEvent {
    verifyWebhookSignature(this.config.payments.webhookSecret, headers['x-signature'], rawBody);
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new InvalidEventError('The event body is not JSON');
    }
    const e = parsed as Partial<WebhookEvent> | null;
    const d = e?.data;
    if (
      !e ||
      typeof e.id !== 'string' ||
      !e.id ||
      e.id.length > 128 ||
      !EVENT_TYPES.has(e.type as string) ||
      !d ||
      typeof d.paymentId !== 'string' ||
      typeof d.orderId !== 'string' ||
      !Number.isSafeInteger(d.amount) ||
      typeof d.currency !== 'string'
    )
      throw new InvalidEventError('The event does not have the expected shape');
    return {
      id: e.id,
      type: e.type as WebhookEvent['type'],
      data: { paymentId: d.paymentId, orderId: d.orderId, amount: d.amount, currency: d.currency },
    };
  }
}
