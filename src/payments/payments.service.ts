import { Injectable, Logger } from '@nestjs/common';
import type { AuthUser } from '../common/auth';
import { UnavailableError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { AppConfig } from '../infra/config/app-config';
import { OrdersService } from '../orders';
import { PaymentProvider, ProviderDeclinedError } from './payment-provider';
import { PaymentEntity } from './payment.entity';
import {
  AddressRequiredError,
  OrderNotPayableError,
  PaymentNotFoundError,
  PaymentNotPendingError,
} from './payments.errors';
import { PaymentsRepository } from './payments.repository';
import type { PaymentView } from './payments.types';
import { SandboxPsp } from './sandbox/sandbox-psp';

/** A refusal (nothing to cancel) is an answer; any other error is retried by the caller. */
const ignoreDeclined = (err: unknown): void => {
  if (!(err instanceof ProviderDeclinedError)) throw err;
};

const unavailable = () =>
  new UnavailableError('The payment provider did not answer, retry later', 'PROVIDER_UNAVAILABLE');

/**
 * Payments before their outcome: opening one for an order (here and at the PSP), reading it, the
 * sandbox's checkout step, and closing the ones an order no longer needs. What the PSP reports
 * afterwards is PaymentWebhooks' (payment-webhooks.service.ts), refunds are PaymentRefunds', the
 * backstop is PaymentReconciliation's. Calls to the provider happen outside transactions (they
 * are slow and cannot be rolled back) and are idempotent: our payment id is their key.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('Payments');

  constructor(
    private readonly repo: PaymentsRepository,
    private readonly orders: OrdersService,
    private readonly provider: PaymentProvider,
    private readonly sandbox: SandboxPsp,
    private readonly config: AppConfig,
  ) {}

  /**
   * POST /payments: one active payment per order; a repeated call returns the existing one. The
   * row is written before the PSP is called, so a PSP that does not answer leaves a payment
   * without a provider reference, which the next call (or reconciliation) opens at the PSP with
   * the same idempotency key.
   */
  async create(user: AuthUser, orderId: string): Promise<PaymentView> {
    const order = await this.orders.get(user.id, orderId); // another user's order → 404
    if (order.status !== 'PENDING_PAYMENT') throw new OrderNotPayableError(order.status);
    // A flash-sale order of a buyer without a default address: nothing to ship to yet.
    if (order.awaitingAddress) throw new AddressRequiredError(orderId);
    const existing = await this.repo.findActiveFor(orderId);
    if (existing?.status === 'PENDING') return toView(await this.openAtProvider(existing));
    if (existing) throw new OrderNotPayableError(order.status);

    const payment = Object.assign(new PaymentEntity(), {
      id: newId(),
      orderId,
      userId: order.userId,
      status: 'PENDING' as const,
      activeOrderId: orderId,
      amountMinor: order.total.amount,
      refundedMinor: 0,
      currency: order.total.currency,
      provider: this.provider.name,
      providerRef: null,
    });
    if (!(await this.repo.insert(payment))) {
      // A concurrent call won the unique active-payment key: answer with its payment.
      const winner = await this.repo.findActiveFor(orderId);
      if (winner?.status === 'PENDING') return toView(await this.openAtProvider(winner));
      throw new OrderNotPayableError(order.status);
    }
    return toView(await this.openAtProvider(payment));
  }

  /** Opens the payment at the PSP unless that already happened (idempotent: our id is the key). */
  async openAtProvider(p: PaymentEntity): Promise<PaymentEntity> {
    if (p.providerRef) return p;
    let providerRef: string;
    try {
      ({ providerRef } = await this.provider.createPayment({
        paymentId: p.id,
        orderId: p.orderId,
        amount: p.amountMinor,
        currency: p.currency,
      }));
    } catch (err) {
      this.logger.warn(`payment ${p.id} not opened at the provider: ${(err as Error).message}`);
      throw unavailable();
    }
    await this.repo.setProviderRef(p.id, providerRef);
    return (await this.repo.find(p.id))!;
  }

  /** GET /payments/:id: the owner or an admin; anyone else gets the same 404 as a missing id. */
  async get(user: AuthUser, id: string): Promise<PaymentView> {
    const p = await this.repo.find(id);
    if (!p || (p.userId !== user.id && user.role !== 'admin')) throw new PaymentNotFoundError();
    return toView(p);
  }

  /** The sandbox's checkout step: the owner "enters a card"; the result arrives by webhook. */
  async confirmSandbox(user: AuthUser, id: string, card: string): Promise<PaymentView> {
    const p = await this.repo.find(id);
    if (!p || p.userId !== user.id || this.config.env === 'production') throw new PaymentNotFoundError();
    if (p.status !== 'PENDING') throw new PaymentNotPendingError(p.status);
    // Prevent rather than refund: no card is charged for an order that can no longer be paid.
    const order = await this.orders.get(user.id, p.orderId);
    if (order.status !== 'PENDING_PAYMENT') throw new OrderNotPayableError(order.status);
    const opened = await this.openAtProvider(p);
    await this.sandbox.confirm(
      { id: opened.id, orderId: opened.orderId, amount: opened.amountMinor, currency: opened.currency },
      card,
    );
    return toView(opened);
  }

  /**
   * The order was paid, expired or cancelled: its other PENDING payments must not be captured
   * any more. Each is cancelled at the PSP; one the PSP had captured first stays PENDING until
   * its success event arrives (or reconciliation fetches it), which refunds it.
   */
  async closeOpenPayments(orderId: string, keep?: string): Promise<void> {
    for (const p of await this.repo.findOpenAtProvider(orderId)) {
      if (p.id === keep) continue;
      if (p.status === 'PENDING') await this.cancelAtProvider(p);
      // A declined payment stays open at a real PSP (the client could try another card there):
      // close it too. Its status here stays FAILED; a capture that won the race still arrives
      // as a success event and is refunded.
      else if (p.providerRef)
        await this.provider.cancelPayment({ providerRef: p.providerRef }).catch(ignoreDeclined);
    }
  }

  /**
   * Cancels a PENDING payment at the PSP (when it was opened there), then here, unless the PSP
   * captured it first: then it stays PENDING for its success event, which refunds it.
   */
  async cancelAtProvider(p: Pick<PaymentEntity, 'id' | 'providerRef'>): Promise<void> {
    let result: 'canceled' | 'captured' = 'canceled';
    if (p.providerRef) {
      try {
        result = await this.provider.cancelPayment({ providerRef: p.providerRef });
      } catch (err) {
        if (!(err instanceof ProviderDeclinedError)) throw err; // unknown: retried by the caller
      }
    }
    if (result === 'canceled') await this.repo.transition(p.id, 'CANCELLED');
  }
}

export function toView(p: PaymentEntity): PaymentView {
  return {
    id: p.id,
    orderId: p.orderId,
    userId: p.userId,
    status: p.status,
    amount: p.amountMinor,
    refundedAmount: p.refundedMinor,
    currency: p.currency,
    provider: p.provider,
    createdAt: new Date(p.createdAt).toISOString(),
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}
