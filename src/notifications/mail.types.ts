/** Every mail the application sends, with the data its templates need. Money is minor units. */
export interface MailTemplates {
  /** `verifyUrl`: the email-verification link (absent in mails queued before it existed). */
  welcome: { name: string; email: string; verifyUrl?: string };
  'verify-email': { name: string; verifyUrl: string; expiresInHours: number };
  'password-reset': { name: string; resetUrl: string; expiresInMinutes: number };
  /** Sent after a password change or reset, so the owner learns of one they did not make. */
  'password-changed': { name: string; email: string; via: 'change' | 'reset' };
  'order-confirmation': {
    name?: string;
    orderId: string;
    items: Array<{ sku: string; name?: string; quantity: number; lineTotal: number; currency: string }>;
    total: { amount: number; currency: string };
  };
  'payment-receipt': { orderId: string; paymentId: string; amount: number; currency: string };
  'low-stock': { sku: string; available: number; threshold: number };
}

export type MailTemplate = keyof MailTemplates;

export interface SendMail<T extends MailTemplate = MailTemplate> {
  template: T;
  to: string;
  data: MailTemplates[T];
  /**
   * One logical mail, e.g. `welcome:<userId>` or `order-confirmation:<orderId>`: it is the Bull
   * job id, so sending the same key twice (duplicates, producer retries) queues one job, and a
   * "sent" marker per key stops a retried job from sending again.
   */
  dedupeKey: string;
}

export interface MailJob extends SendMail {
  requestId?: string;
}
