/**
 * The provider port. PaymentsService talks to a PSP only through this abstract class (also the
 * DI token); the sandbox is one implementation, a Stripe adapter would be another (see
 * docs/payments.md). Implementations hold no business rules: they move money, report what the
 * PSP knows, and translate the PSP's webhooks into {@link WebhookEvent}.
 *
 * Errors: a call the PSP definitely refused (nothing happened there) throws
 * {@link ProviderDeclinedError}; any other error means the outcome is unknown (a timeout, a 5xx),
 * and the caller retries later with the same idempotency key, so the PSP acts at most once.
 */
export type WebhookEventType = 'payment.succeeded' | 'payment.failed';

export interface WebhookEvent {
  /** The provider's event id: the deduplication key. */
  id: string;
  type: WebhookEventType;
  data: { paymentId: string; orderId: string; amount: number; currency: string };
}

/** What the PSP knows about a payment: `failed` is the last attempt's result, not final (a retried card may still succeed). */
export type ProviderPaymentStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export interface ProviderPayment {
  status: ProviderPaymentStatus;
  amount: number;
  currency: string;
}

/** The PSP refused the call: nothing happened there, so retrying the same call is pointless. */
export class ProviderDeclinedError extends Error {
  constructor(readonly reason: string) {
    super(`declined by the provider: ${reason}`);
  }
}

export abstract class PaymentProvider {
  /** Stored on every payment row (`provider` column) and returned to clients. */
  abstract readonly name: string;

  /** Opens the payment at the PSP. `paymentId` doubles as the idempotency key. */
  abstract createPayment(input: {
    paymentId: string;
    orderId: string;
    amount: number;
    currency: string;
  }): Promise<{ providerRef: string }>;

  /**
   * Closes a payment that was not captured (its order expired, was cancelled or was paid by
   * another payment). `captured` when the money was taken first: its success event follows.
   */
  abstract cancelPayment(input: { providerRef: string }): Promise<'canceled' | 'captured'>;

  /** The PSP's view of a payment (reconciliation when webhooks were lost); null if it has none. */
  abstract retrievePayment(input: { providerRef: string }): Promise<ProviderPayment | null>;

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
