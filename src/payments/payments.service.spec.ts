import type { AppConfig } from '../infra/config/app-config';
import { ProviderDeclinedError } from './payment-provider';
import { PaymentsService } from './payments.service';
import type { SandboxPsp } from './sandbox/sandbox-psp';
import { ORDER_ID, aPayment, anOrder, paymentsStubs } from '../../test/payments/unit-fixtures';

describe('PaymentsService', () => {
  const owner = { id: 'u1', role: 'customer' as const };
  const build = (env: AppConfig['env'] = 'development') => {
    const s = paymentsStubs();
    const confirm = jest.fn().mockResolvedValue(undefined);
    const service = new PaymentsService(
      s.repo,
      s.orders,
      s.provider,
      { confirm } as unknown as SandboxPsp,
      { env } as AppConfig,
    );
    return { ...s, service, confirm };
  };

  describe('create', () => {
    it("writes a PENDING payment holding the order's slot before opening it at the PSP with its id as the key", async () => {
      const { service, repo, orders, provider } = build();
      orders.get.mockResolvedValue(anOrder('PENDING_PAYMENT', { total: { amount: 2468, currency: 'EUR' } }));
      repo.findActiveFor.mockResolvedValue(null);
      repo.insert.mockResolvedValue(true);
      provider.createPayment.mockResolvedValue({ providerRef: 'sbx_pi_new' });
      repo.setProviderRef.mockResolvedValue();
      repo.find.mockImplementation(async (id) =>
        aPayment({ id, amountMinor: 2468, providerRef: 'sbx_pi_new' }),
      );

      const view = await service.create(owner, ORDER_ID);

      const inserted = repo.insert.mock.calls[0][0];
      expect(inserted).toMatchObject({
        status: 'PENDING',
        activeOrderId: ORDER_ID,
        amountMinor: 2468,
        providerRef: null,
      });
      expect(provider.createPayment).toHaveBeenCalledWith(
        expect.objectContaining({ paymentId: inserted.id, amount: 2468, currency: 'EUR' }),
      );
      expect(repo.insert.mock.invocationCallOrder[0]).toBeLessThan(
        provider.createPayment.mock.invocationCallOrder[0],
      );
      expect(repo.setProviderRef).toHaveBeenCalledWith(inserted.id, 'sbx_pi_new');
      expect(view).toMatchObject({ id: inserted.id, status: 'PENDING', amount: 2468 });
    });

    it('answers the PENDING payment that won a concurrent create (the unique active-payment key)', async () => {
      const { service, repo, orders } = build();
      orders.get.mockResolvedValue(anOrder('PENDING_PAYMENT'));
      const winner = aPayment({ id: '01936f0e-0000-7000-8000-0000000000b2' });
      repo.findActiveFor.mockResolvedValueOnce(null).mockResolvedValueOnce(winner);
      repo.insert.mockResolvedValue(false);
      await expect(service.create(owner, ORDER_ID)).resolves.toMatchObject({ id: winner.id });
    });

    it('refuses an order whose payment was captured already, and an order no longer payable', async () => {
      const { service, repo, orders } = build();
      orders.get.mockResolvedValue(anOrder('PENDING_PAYMENT'));
      repo.findActiveFor.mockResolvedValue(aPayment({ status: 'SUCCEEDED' }));
      await expect(service.create(owner, ORDER_ID)).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
      orders.get.mockResolvedValue(anOrder('EXPIRED'));
      await expect(service.create(owner, ORDER_ID)).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
      expect(repo.insert).not.toHaveBeenCalled();
    });

    it('keeps the row and answers 503 PROVIDER_UNAVAILABLE when the PSP does not answer (reopened later with the same key)', async () => {
      const { service, repo, orders, provider } = build();
      orders.get.mockResolvedValue(anOrder('PENDING_PAYMENT'));
      repo.findActiveFor.mockResolvedValue(null);
      repo.insert.mockResolvedValue(true);
      provider.createPayment.mockRejectedValue(new Error('sandbox: 503'));
      await expect(service.create(owner, ORDER_ID)).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
      expect(repo.setProviderRef).not.toHaveBeenCalled();
    });
  });

  describe('confirmSandbox', () => {
    it('answers PAYMENT_NOT_FOUND in production and never reaches the sandbox', async () => {
      const { service, repo, confirm } = build('production');
      repo.find.mockResolvedValue(aPayment());
      await expect(service.confirmSandbox(owner, aPayment().id, '4242424242424242')).rejects.toMatchObject({
        code: 'PAYMENT_NOT_FOUND',
      });
      expect(confirm).not.toHaveBeenCalled();
    });

    it('charges the card through the sandbox outside production', async () => {
      const { service, repo, orders, confirm } = build('development');
      repo.find.mockResolvedValue(aPayment());
      orders.get.mockResolvedValue(anOrder('PENDING_PAYMENT'));
      await expect(service.confirmSandbox(owner, aPayment().id, '4242424242424242')).resolves.toMatchObject({
        id: aPayment().id,
        status: 'PENDING',
      });
      expect(confirm).toHaveBeenCalledTimes(1);
    });

    it('charges no card for an order that can no longer be paid', async () => {
      const { service, repo, orders, confirm } = build();
      repo.find.mockResolvedValue(aPayment());
      orders.get.mockResolvedValue(anOrder('CANCELLED'));
      await expect(service.confirmSandbox(owner, aPayment().id, '4242424242424242')).rejects.toMatchObject({
        code: 'ORDER_NOT_PAYABLE',
      });
      expect(confirm).not.toHaveBeenCalled();
    });
  });

  describe('closing what an order no longer needs', () => {
    it('cancels the other PENDING payments at the PSP and here, and closes FAILED ones at the PSP only', async () => {
      const { service, repo, provider } = build();
      const paying = aPayment({ id: 'a', status: 'SUCCEEDED' });
      const open = aPayment({ id: 'b', providerRef: 'sbx_pi_b' });
      const declined = aPayment({ id: 'c', status: 'FAILED', providerRef: 'sbx_pi_c' });
      repo.findOpenAtProvider.mockResolvedValue([paying, open, declined]);
      provider.cancelPayment.mockResolvedValue('canceled');
      repo.transition.mockResolvedValue(true);

      await service.closeOpenPayments(ORDER_ID, 'a');

      expect(provider.cancelPayment.mock.calls).toEqual([
        [{ providerRef: 'sbx_pi_b' }],
        [{ providerRef: 'sbx_pi_c' }],
      ]);
      expect(repo.transition.mock.calls).toEqual([['b', 'CANCELLED']]);
    });

    it('leaves a payment the PSP captured first PENDING, for its success event to refund', async () => {
      const { service, repo, provider } = build();
      provider.cancelPayment.mockResolvedValue('captured');
      await service.cancelAtProvider(aPayment());
      expect(repo.transition).not.toHaveBeenCalled();
    });

    it('cancels here what the PSP does not know (a refusal), and lets an unknown outcome fail for a retry', async () => {
      const { service, repo, provider } = build();
      repo.transition.mockResolvedValue(true);
      provider.cancelPayment.mockRejectedValueOnce(new ProviderDeclinedError('no such payment'));
      await service.cancelAtProvider(aPayment());
      expect(repo.transition).toHaveBeenCalledWith(aPayment().id, 'CANCELLED');

      provider.cancelPayment.mockRejectedValueOnce(new Error('timeout'));
      await expect(service.cancelAtProvider(aPayment())).rejects.toThrow('timeout');
      expect(repo.transition).toHaveBeenCalledTimes(1);
    });
  });
});
