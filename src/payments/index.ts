/** The payments module's public API. */
export { PaymentsService } from './payments.service';
export type { PaymentView, RefundView } from './payments.types';
export { PaymentProvider, type WebhookEvent, type WebhookEventType } from './payment-provider';
export { signWebhook } from './webhook-signature';
export { PAYMENTS_GRPC } from './payments.grpc';
export { PaymentsModule } from './payments.module';
