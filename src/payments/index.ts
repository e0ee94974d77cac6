/** The payments module's public API. */
export { PaymentsService, type PaymentView, type RefundView } from './payments.service';
export { PaymentProvider, type WebhookEvent, type WebhookEventType } from './payment-provider';
export { signWebhook } from './webhook-signature';
export { PAYMENTS_GRPC } from './payments.grpc';
export { PaymentsModule } from './payments.module';
