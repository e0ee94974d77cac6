import type { Queue } from 'bull';
import { PaymentRefunds } from './payment-refunds.service';
import { ProviderDeclinedError } from './payment-provider';
import { ORDER_ID, aPayment, aRefund, anOrder, paymentsStubs } from '../../test/payments/unit-fixtures';

describe('PaymentRefunds', () => {
  const captured = aPayment({ status: 'SUCCEEDED' });
  const build = () => {
    const s = paymentsStubs();
    const queue = { add: jest.fn().mockResolvedValue(undefined) };
    const refunds = new PaymentRefunds(s.db, s.repo, s.orders, s.provider, queue as unknown as Queue);
    s.repo.find.mockResolvedValue(captured);
    s.repo.lock.mockResolvedValue(captured);
    s.repo.transition.mockResolvedValue(true);
    s.repo.transitionRefund.mockResolvedValue(true);
    s.repo.insertRefund.mockResolvedValue();
    // The refund's split is computed from the order's breakdown (docs/checkout.md, "Refunds").
    s.orders.getForSystem.mockResolvedValue(anOrder('PAID'));
    return { ...s, refunds, queue };
  };

  describe('refund (admin)', () => {
    it('refunds only captured money', async () => {
      for (const status of ['PENDING', 'FAILED', 'CANCELLED', 'REFUNDED'] as const) {
        const { refunds, repo } = build();
        repo.find.mockResolvedValue(aPayment({ status }));
        await expect(refunds.refund(captured.id, {})).rejects.toMatchObject({
          code: 'PAYMENT_NOT_REFUNDABLE',
        });
        expect(repo.reserveRefund).not.toHaveBeenCalled();
      }
    });

    it('reserves what is left to refund (the conditional UPDATE decides), then asks the PSP with the refund id as key', async () => {
      const { refunds, repo, provider, orders } = build();
      repo.find.mockResolvedValue(aPayment({ status: 'PARTIALLY_REFUNDED', refundedMinor: 400 }));
      repo.reserveRefund.mockResolvedValue(true);
      repo.findRefund.mockImplementation(async (id) => aRefund({ id, amountMinor: 600 }));
      provider.refund.mockResolvedValue({ refundRef: 'sbx_re_x' });
      repo.succeededRefundTotal.mockResolvedValue(1000);
      repo.lock.mockResolvedValue(aPayment({ status: 'PARTIALLY_REFUNDED', refundedMinor: 1000 }));
      orders.refund.mockResolvedValue('refunded');

      await expect(refunds.refund(captured.id, {})).resolves.toMatchObject({
        amount: 600,
        // the order (1000, no shipping, no tax, no discount): all of it goods
        split: { goods: 600, shipping: 0, tax: 0, discount: 0 },
      });
      expect(orders.getForSystem).toHaveBeenCalledWith(ORDER_ID);

      expect(repo.reserveRefund).toHaveBeenCalledWith(captured.id, 600);
      const refundId = repo.insertRefund.mock.calls[0][0].id;
      expect(provider.refund).toHaveBeenCalledWith(
        expect.objectContaining({ amount: 600, idempotencyKey: refundId }),
      );
    });

    it('answers PAYMENT_NOT_REFUNDABLE when concurrent refunds would exceed the capture', async () => {
      const { refunds, repo, provider } = build();
      repo.reserveRefund.mockResolvedValue(false);
      await expect(refunds.refund(captured.id, { amount: 300 })).rejects.toMatchObject({
        code: 'PAYMENT_NOT_REFUNDABLE',
      });
      expect(repo.insertRefund).not.toHaveBeenCalled();
      expect(provider.refund).not.toHaveBeenCalled();
    });

    it('leaves a refund whose outcome is unknown PENDING and queues its retry under the refund id', async () => {
      const { refunds, repo, provider, queue } = build();
      repo.reserveRefund.mockResolvedValue(true);
      repo.findRefund.mockImplementation(async (id) => aRefund({ id }));
      provider.refund.mockRejectedValue(new Error('sandbox: 503'));
      const view = await refunds.refund(captured.id, { amount: 300 });
      expect(view.status).toBe('PENDING');
      expect(queue.add).toHaveBeenCalledWith(
        'complete-refund',
        expect.objectContaining({ refundId: view.id }),
        expect.objectContaining({ jobId: `refund:${view.id}` }),
      );
      expect(repo.transitionRefund).not.toHaveBeenCalled();
    });

    it('fails a refused refund once and gives its reservation back (409)', async () => {
      const { refunds, repo, provider } = build();
      repo.reserveRefund.mockResolvedValue(true);
      repo.findRefund.mockImplementation(async (id) => aRefund({ id, amountMinor: 300 }));
      repo.releaseRefund.mockResolvedValue();
      provider.refund.mockRejectedValue(new ProviderDeclinedError('refused'));
      await expect(refunds.refund(captured.id, { amount: 300 })).rejects.toMatchObject({
        code: 'PAYMENT_NOT_REFUNDABLE',
      });
      expect(repo.transitionRefund).toHaveBeenCalledWith(expect.any(String), 'FAILED');
      expect(repo.releaseRefund).toHaveBeenCalledWith(captured.id, 300);
    });
  });

  describe('complete', () => {
    it('refunds the order (restocking on request) when a requested refund completes the capture', async () => {
      const { refunds, repo, provider, orders } = build();
      repo.findRefund.mockResolvedValue(aRefund({ restock: true }));
      provider.refund.mockResolvedValue({ refundRef: 'sbx_re_1' });
      repo.succeededRefundTotal.mockResolvedValue(1000);
      orders.refund.mockResolvedValue('refunded');
      await expect(refunds.complete(aRefund().id)).resolves.toBe('succeeded');
      expect(repo.transitionRefund).toHaveBeenCalledWith(aRefund().id, 'SUCCEEDED', 'sbx_re_1');
      expect(repo.transition).toHaveBeenCalledWith(captured.id, 'REFUNDED');
      expect(orders.refund).toHaveBeenCalledWith(ORDER_ID, { paymentId: captured.id, restock: true });
    });

    it.each([
      ['a partial refund', aRefund({ amountMinor: 300 }), 300, 'PARTIALLY_REFUNDED'],
      [
        'a capture that paid nothing (order_not_payable)',
        aRefund({ reason: 'order_not_payable' }),
        1000,
        'REFUNDED',
      ],
    ] as const)('leaves the order alone for %s', async (_case, refund, total, status) => {
      const { refunds, repo, provider, orders } = build();
      repo.findRefund.mockResolvedValue(refund);
      provider.refund.mockResolvedValue({ refundRef: 'sbx_re_1' });
      repo.succeededRefundTotal.mockResolvedValue(total);
      await refunds.complete(refund.id);
      expect(repo.transition).toHaveBeenCalledWith(captured.id, status);
      expect(orders.refund).not.toHaveBeenCalled();
    });

    it('is a no-op for a refund no longer PENDING, and records a concurrent completion once', async () => {
      const { refunds, repo, provider } = build();
      repo.findRefund.mockResolvedValue(aRefund({ status: 'SUCCEEDED' }));
      await expect(refunds.complete(aRefund().id)).resolves.toBe('not_pending');
      expect(provider.refund).not.toHaveBeenCalled();

      repo.findRefund.mockResolvedValue(aRefund());
      provider.refund.mockResolvedValue({ refundRef: 'sbx_re_1' });
      repo.transitionRefund.mockResolvedValue(false); // the other completion recorded it
      await expect(refunds.complete(aRefund().id)).resolves.toBe('succeeded');
      expect(repo.lock).not.toHaveBeenCalled();
      expect(repo.transition).not.toHaveBeenCalled();
    });
  });
});
