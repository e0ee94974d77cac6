import { Injectable, Logger } from '@nestjs/common';
import type { OrderStatus } from './order-state';

export const ORDER_EVENTS = {
  created: 'order.created',
  paid: 'order.paid',
  cancelled: 'order.cancelled',
  expired: 'order.expired',
  refunded: 'order.refunded',
  fulfilled: 'order.fulfilled',
} as const;
export type OrderEventType = (typeof ORDER_EVENTS)[keyof typeof ORDER_EVENTS];

/** What every order event carries (written to the outbox in the transaction of the change). */
export interface OrderEvent {
  /** The outbox row id: unique per event, use it to deduplicate. */
  eventId: string;
  type: OrderEventType;
  orderId: string;
  userId: string;
  status: OrderStatus;
  source: 'web' | 'flash_sale';
  flashSaleId: string | null;
  reservationId: string | null;
  paymentId: string | null;
  /**
   * The order's lines. `name`, `unitPrice` (minor units) and `currency` are what the order copied
   * when it was placed (they never change): events written before they were carried lack them.
   */
  items: { sku: string; quantity: number; name?: string; unitPrice?: number; currency?: string }[];
  total: { amount: number; currency: string };
  /** `order.created`: when the unpaid order expires (the expiry sweep reads it from the order row). */
  expiresAt?: string;
  occurredAt: string;
}

export type OrderEventHandler = (event: OrderEvent) => Promise<void> | void;

/**
 * In-process subscription to order events. The outbox consumer calls the handlers at least
 * once per event (a failed handler fails the job, which is retried with every handler called
 * again), so handlers must be idempotent, e.g. keyed by `eventId` or by the order's status.
 */
@Injectable()
export class OrderEventsBus {
  private readonly logger = new Logger('OrderEvents');
  private readonly handlers = new Map<string, OrderEventHandler[]>();

  on(type: OrderEventType, handler: OrderEventHandler): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler);
    this.handlers.set(type, list);
  }

  /** Runs every handler of the event; throws the first failure after all have run. */
  async dispatch(event: OrderEvent): Promise<void> {
    const results = await Promise.allSettled(
      (this.handlers.get(event.type) ?? []).map(async (h) => h(event)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.logger.warn(`handler of ${event.type} ${event.orderId} failed: ${String(failed.reason)}`);
      throw failed.reason;
    }
  }
}
