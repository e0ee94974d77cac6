import { PaymentReconciliation, RECONCILE } from './payment-reconciliation.service';
import { PaymentRefunds } from './payment-refunds.service';
import { PaymentWebhooks } from './payment-webhooks.service';
import { PaymentsService } from './payments.service';
import { ORDER_ID, aPayment, aRefund, anOrder, paymentsStubs } from '../../test/payments/unit-fixtures';
import { automock } from '../../test/support/unit-stubs';

describe('PaymentReconciliation.reconcile', () => {
  const build = () => {
    const s = paymentsStubs();
    const payments = automock(PaymentsService);
    const webhooks = automock(PaymentWebhooks);
    const refunds = automock(PaymentRefunds);
    const reconciliation = new PaymentReconciliation(
      s.repo,
      s.orders,
      s.provider,
      payments,
      webhooks,
      refunds,
    );
    s.repo.pendingRefunds.mockResolvedValue([]);
    s.repo.pendingPayments.mockResolvedValue([]);
    s.repo.postponeRefunds.mockResolvedValue();
    s.repo.postponePayments.mockResolvedValue();
    return { ...s, payments, webhooks, refunds, reconciliation };
  };

  it('takes the oldest rows past their age, a batch of each kind', async () => {
    const { reconciliation, repo } = build();
    await expect(reconciliation.reconcile({ refundAfterMs: 0 })).resolves.toEqual({
      refunds: 0,
      payments: 0,
    });
    expect(repo.pendingRefunds).toHaveBeenCalledWith({ olderThanMs: 0, limit: RECONCILE.batch });
    expect(repo.pendingPayments).toHaveBeenCalledWith({
      olderThanMs: RECONCILE.paymentAfterMs,
      limit: RECONCILE.batch,
    });
  });

  it('sends every row it took to the back of the line, also those whose turn failed', async () => {
    const { reconciliation, repo, refunds, orders, provider } = build();
    repo.pendingRefunds.mockResolvedValue([aRefund({ id: 'r1' }), aRefund({ id: 'r2' })]);
    refunds.complete.mockRejectedValueOnce(new Error('PSP down')).mockResolvedValueOnce('succeeded');
    repo.pendingPayments.mockResolvedValue([aPayment({ id: 'p1' }), aPayment({ id: 'p2' })]);
    orders.getForSystem.mockResolvedValue(anOrder('PENDING_PAYMENT'));
    provider.retrievePayment.mockRejectedValueOnce(new Error('PSP down')).mockResolvedValueOnce({
      status: 'pending',
      amount: 1000,
      currency: 'EUR',
    });

    await expect(reconciliation.reconcile()).resolves.toEqual({ refunds: 2, payments: 2 });

    expect(refunds.complete.mock.calls).toEqual([['r1'], ['r2']]);
    // The statement itself moves only rows still PENDING (see PaymentsRepository).
    expect(repo.postponeRefunds).toHaveBeenCalledWith(['r1', 'r2']);
    expect(repo.postponePayments).toHaveBeenCalledWith(['p1', 'p2']);
    expect(repo.postponeRefunds.mock.invocationCallOrder[0]).toBeGreaterThan(
      refunds.complete.mock.invocationCallOrder[1],
    );
  });

  it('carries on when the rows cannot be moved back (they keep their place)', async () => {
    const { reconciliation, repo, refunds } = build();
    repo.pendingRefunds.mockResolvedValue([aRefund()]);
    refunds.complete.mockResolvedValue('succeeded');
    repo.postponeRefunds.mockRejectedValue(new Error('primary down'));
    await expect(reconciliation.reconcile()).resolves.toEqual({ refunds: 1, payments: 0 });
    expect(repo.pendingPayments).toHaveBeenCalled();
  });

  it('applies a capture the PSP knows of as an event of its own, deduplicated like a webhook', async () => {
    const { reconciliation, repo, orders, provider, webhooks } = build();
    const p = aPayment();
    repo.pendingPayments.mockResolvedValue([p]);
    orders.getForSystem.mockResolvedValue(anOrder('EXPIRED'));
    provider.retrievePayment.mockResolvedValue({ status: 'succeeded', amount: 1000, currency: 'EUR' });
    webhooks.applyOnce.mockResolvedValue({ eventId: `reconcile:${p.id}:succeeded`, outcome: 'auto_refund' });
    await reconciliation.reconcile();
    expect(webhooks.applyOnce).toHaveBeenCalledWith(
      {
        id: `reconcile:${p.id}:succeeded`,
        type: 'payment.succeeded',
        data: { paymentId: p.id, orderId: ORDER_ID, amount: 1000, currency: 'EUR' },
      },
      expect.stringContaining('"source":"reconcile"'),
    );
  });

  it('opens at the PSP a payment it never reached while its order can be paid, and cancels it otherwise', async () => {
    const { reconciliation, repo, orders, payments } = build();
    const unopened = aPayment({ providerRef: null });
    repo.pendingPayments.mockResolvedValue([unopened]);
    orders.getForSystem
      .mockResolvedValueOnce(anOrder('PENDING_PAYMENT'))
      .mockResolvedValueOnce(anOrder('EXPIRED'));
    payments.openAtProvider.mockResolvedValue(unopened);
    payments.cancelAtProvider.mockResolvedValue();
    await reconciliation.reconcile();
    await reconciliation.reconcile();
    expect(payments.openAtProvider).toHaveBeenCalledWith(unopened);
    expect(payments.cancelAtProvider).toHaveBeenCalledWith(unopened);
  });

  it('cancels here a payment the PSP cancelled or does not know, and an open one whose order is gone', async () => {
    const { reconciliation, repo, orders, provider, payments } = build();
    const p = aPayment();
    repo.pendingPayments.mockResolvedValue([p]);
    orders.getForSystem.mockResolvedValue(anOrder('CANCELLED'));
    payments.cancelAtProvider.mockResolvedValue();
    provider.retrievePayment
      .mockResolvedValueOnce(null)
      .mockResolvedValueOnce({ status: 'canceled', amount: 1000, currency: 'EUR' })
      .mockResolvedValueOnce({ status: 'pending', amount: 1000, currency: 'EUR' });
    for (let i = 0; i < 3; i++) await reconciliation.reconcile();
    expect(payments.cancelAtProvider.mock.calls).toEqual([
      [{ id: p.id, providerRef: null }],
      [{ id: p.id, providerRef: null }],
      [p],
    ]);
  });
});
