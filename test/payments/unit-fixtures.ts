import { MetricsService } from '../../src/infra/observability/metrics.service';
import type { OrderView } from '../../src/orders';
import { OrdersService } from '../../src/orders';
import type { PaymentProvider } from '../../src/payments';
import { PaymentEntity, PaymentsRepository, RefundEntity } from '../../src/payments/testing';
import { automock, transactionStub } from '../support/unit-stubs';

/** Builders and stubs for the payments services' unit specs (src/payments/*.spec.ts). */

export const ORDER_ID = '01936f0e-0000-7000-8000-0000000000aa';

export function aPayment(over: Partial<PaymentEntity> = {}): PaymentEntity {
  return Object.assign(new PaymentEntity(), {
    id: '01936f0e-0000-7000-8000-000000000001',
    orderId: ORDER_ID,
    userId: 'u1',
    status: 'PENDING',
    activeOrderId: ORDER_ID,
    amountMinor: 1000,
    refundedMinor: 0,
    currency: 'EUR',
    provider: 'sandbox',
    providerRef: 'sbx_pi_1',
    createdAt: new Date('2026-12-01T10:00:00Z'),
    updatedAt: new Date('2026-12-01T10:00:00Z'),
    ...over,
  });
}

export function aRefund(over: Partial<RefundEntity> = {}): RefundEntity {
  return Object.assign(new RefundEntity(), {
    id: '01936f0e-0000-7000-8000-0000000000f1',
    paymentId: aPayment().id,
    amountMinor: 1000,
    currency: 'EUR',
    status: 'PENDING',
    reason: 'requested',
    restock: false,
    providerRef: null,
    createdAt: new Date('2026-12-01T11:00:00Z'),
    updatedAt: new Date('2026-12-01T11:00:00Z'),
    ...over,
  });
}

export const anOrder = (status: OrderView['status'], over: Partial<OrderView> = {}): OrderView => ({
  id: ORDER_ID,
  userId: 'u1',
  status,
  items: [],
  total: { amount: 1000, currency: 'EUR' },
  createdAt: '2026-12-01T09:59:00.000Z',
  source: 'web',
  breakdown: {
    subtotal: 1000,
    discount: 0,
    shipping: 0,
    tax: 0,
    taxIncluded: true,
    total: 1000,
    currency: 'EUR',
  },
  taxCountry: null,
  shippingAddress: null,
  shippingMethod: null,
  coupon: null,
  awaitingAddress: false,
  ...over,
});

/** The provider port (abstract: its methods are not on a prototype to automock). */
export function providerStub(): jest.Mocked<PaymentProvider> {
  const fail = (name: string) =>
    jest.fn(() => {
      throw new Error(`PaymentProvider.${name} was called but not stubbed`);
    });
  return {
    name: 'sandbox',
    createPayment: fail('createPayment'),
    cancelPayment: fail('cancelPayment'),
    retrievePayment: fail('retrievePayment'),
    refund: fail('refund'),
    verifyAndParseWebhook: fail('verifyAndParseWebhook'),
  } as unknown as jest.Mocked<PaymentProvider>;
}

/** What every payments service is built from: the repository, the orders module, the PSP, the write API. */
export function paymentsStubs() {
  return {
    repo: automock(PaymentsRepository),
    orders: automock(OrdersService),
    provider: providerStub(),
    metrics: new MetricsService(),
    ...transactionStub(),
  };
}
