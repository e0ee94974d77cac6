import type { Queue } from 'bull';
import type { AppConfig } from '../infra/config/app-config';
import type { DbRouter } from '../infra/database/db-router.service';
import { MetricsService } from '../infra/observability/metrics.service';
import type { OrdersService } from '../orders';
import type { PaymentEntity } from './payment.entity';
import type { PaymentProvider } from './payment-provider';
import { PaymentsService } from './payments.service';
import type { ReceiptMailer } from './receipt-mailer';
import type { SandboxPsp } from './sandbox/sandbox-psp';

/** The sandbox's confirm step must not exist in production: same 404 as an unknown payment. */
describe('PaymentsService.confirmSandbox', () => {
  const payment = {
    id: '01936f0e-0000-7000-8000-000000000001',
    userId: 'u1',
    orderId: 'o1',
    status: 'PENDING',
    amountMinor: 1000,
    currency: 'EUR',
    providerRef: 'sbx_pi_x',
    createdAt: new Date(),
    updatedAt: new Date(),
  } as PaymentEntity;
  const build = (env: AppConfig['env']) => {
    const confirm = jest.fn().mockResolvedValue(undefined);
    const db = {
      primaryReader: () => ({ getRepository: () => ({ findOneBy: () => Promise.resolve(payment) }) }),
    } as unknown as DbRouter;
    const orders = {
      get: () => Promise.resolve({ status: 'PENDING_PAYMENT' }),
    } as unknown as OrdersService;
    const service = new PaymentsService(
      db,
      orders,
      {} as PaymentProvider,
      { confirm } as unknown as SandboxPsp,
      {} as ReceiptMailer,
      { env } as AppConfig,
      {} as Queue,
      new MetricsService(),
    );
    return { service, confirm };
  };
  const owner = { id: 'u1', role: 'customer' as const };

  it('answers PAYMENT_NOT_FOUND in production and never reaches the sandbox', async () => {
    const { service, confirm } = build('production');
    await expect(service.confirmSandbox(owner, payment.id, '4242424242424242')).rejects.toMatchObject({
      code: 'PAYMENT_NOT_FOUND',
    });
    expect(confirm).not.toHaveBeenCalled();
  });

  it('charges the card through the sandbox outside production', async () => {
    const { service, confirm } = build('development');
    await expect(service.confirmSandbox(owner, payment.id, '4242424242424242')).resolves.toMatchObject({
      id: payment.id,
      status: 'PENDING',
    });
    expect(confirm).toHaveBeenCalledTimes(1);
  });
});
