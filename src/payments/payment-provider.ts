/**
 * The provider port. PaymentsService talks to a PSP only through this abstract class (also the
 * DI token); the sandbox is one implementation, a Stripe adapter would be another (see
 * docs/payments.md). Implementations hold no business rules: they move money and translate
 * the PSP's webhooks into {@link WebhookEvent}.
 */
export type WebhookEventType = 'payment.succeeded' | 'payment.failed';

export interface WebhookEvent {
  /** The provider's event id: the deduplication key. */
  id: string;
  type: WebhookEventType;
  data: { paymentId: string; orderId: string; amount: number; currency: string };
}

export abstract class PaymentProvider {
  /** Stored on every payment row (`provider` column) and returned to clients. */
  abstract readonly name: string;

  /** Opens the payment at the PSP. `paymentId` doubles as the idempotency key. */
  abstract createPayment(input: {
    paymentId: string;
    amount: number;
    currency: string;
  }): Promise<{ providerRef: string }>;

  /** Returns captured money. `idempotencyKey` (our refund id) makes a retried call a no-op at the PSP. */
  abstract refund(input: {
    providerRef: string;
    amount: number;
    currency: string;
    idempotencyKey: string;
  }): Promise<{ refundRef: string }>;

  /**
   * Authenticates a webhook on the exact bytes received and parses it. Throws a 400 DomainError
   * (`INVALID_SIGNATURE`, `STALE_WEBHOOK`, `INVALID_EVENT`) when it cannot be trusted.
   */
  abstract verifyAndParseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): WebhookEvent;
}
