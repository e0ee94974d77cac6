import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../infra/config/app-config';
import { PaymentProvider, ProviderDeclinedError, ProviderPayment, WebhookEvent } from '../payment-provider';
import { verifyWebhookSignature } from '../webhook-signature';
import { SandboxLedger } from './sandbox-ledger';

export class InvalidEventError extends DomainError {
  constructor(message: string) {
    super('invalid', 'INVALID_EVENT', message);
  }
}

const EVENT_TYPES = new Set(['payment.succeeded', 'payment.failed']);
const REF_PREFIX = 'sbx_pi_';
const intentOf = (providerRef: string) =>
  providerRef.startsWith(REF_PREFIX) ? providerRef.slice(REF_PREFIX.length) : providerRef;

/**
 * The sandbox PSP seen from our side of the port: the calls a Stripe adapter would make over
 * HTTPS go to the sandbox's books (SandboxLedger) instead, with the same semantics — idempotent
 * creation and refunds, definite refusals as ProviderDeclinedError, and injected outages as plain
 * errors (outcome unknown). Webhooks are authenticated with PAYMENT_WEBHOOK_SECRET exactly as a
 * real provider's would be.
 */
@Injectable()
export class SandboxProvider extends PaymentProvider {
  readonly name = 'sandbox';

  constructor(
    private readonly config: AppConfig,
    private readonly ledger: SandboxLedger,
  ) {
    super();
  }

  async createPayment(input: {
    paymentId: string;
    orderId: string;
    amount: number;
    currency: string;
  }): Promise<{ providerRef: string }> {
    const r = await this.ledger.create(input.paymentId, input.orderId, input.amount, input.currency);
    if (r === 'unavailable') throw new Error('sandbox: 503 Service Unavailable');
    return { providerRef: `${REF_PREFIX}${input.paymentId}` };
  }

  async cancelPayment(input: { providerRef: string }): Promise<'canceled' | 'captured'> {
    const r = await this.ledger.cancel(intentOf(input.providerRef));
    if (r === 'unknown') throw new ProviderDeclinedError('no such payment');
    return r;
  }

  retrievePayment(input: { providerRef: string }): Promise<ProviderPayment | null> {
    return this.ledger.retrieve(intentOf(input.providerRef));
  }

  async refund(input: {
    providerRef: string;
    amount: number;
    idempotencyKey: string;
  }): Promise<{ refundRef: string }> {
    const r = await this.ledger.refund(intentOf(input.providerRef), input.idempotencyKey, input.amount);
    if (r === 'unavailable') throw new Error('sandbox: 503 Service Unavailable');
    // No books for this payment (lost, or from before they were kept) is not a refusal: the
    // money may well have been taken, so the refund stays PENDING and is retried.
    if (r === 'unknown_payment') throw new Error('sandbox: no record of this payment');
    if (r !== 'ok') throw new ProviderDeclinedError(r);
    return { refundRef: `sbx_re_${input.idempotencyKey}` };
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
