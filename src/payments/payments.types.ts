import type { PaymentEventOutcome } from './payment-event.entity';
import type { PaymentStatus, RefundStatus } from './payment-state';
import type { RefundSplit } from '../checkout';
import type { RefundReason } from './refund.entity';

/** A payment as the API answers it (REST and gRPC). */
export interface PaymentView {
  id: string;
  orderId: string;
  userId: string;
  status: PaymentStatus;
  amount: number;
  refundedAmount: number;
  currency: string;
  provider: string;
  createdAt: string;
  updatedAt: string;
}

export interface RefundView {
  id: string;
  paymentId: string;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: RefundReason;
  restock: boolean;
  createdAt: string;
  /** How the amount divides into goods, shipping and tax (docs/checkout.md, "Refunds"). */
  split?: RefundSplit;
}

/** What a delivered event did (`duplicate`: its id was applied before, nothing changed). */
export type WebhookResult = { eventId: string; outcome: PaymentEventOutcome | 'duplicate' };
