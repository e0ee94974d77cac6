import { PaymentRefunds } from './payment-refunds.service';
import type { WebhookEvent } from './payment-provider';
import { PaymentWebhooks } from './payment-webhooks.service';
import type { ReceiptMailer } from './receipt-mailer';
import { ORDER_ID, aPayment, aRefund, paymentsStubs } from '../../test/payments/unit-fixtures';
import { automock } from '../../test/support/unit-stubs';

describe('PaymentWebhooks.applyOnce', () => {
  const payment = aPayment();
  const event = (type: WebhookEvent['type'], data: Partial<WebhookEvent['data']> = {}): WebhookEvent => ({
    id: `evt_${type}`,
    type,
    data: { paymentId: payment.id, orderId: ORDER_ID, amount: 1000, currency: 'EUR', ...data },
  });
  const build = () => {
    const s = paymentsStubs();
    const refunds = automock(PaymentRefunds);
    const sendFor = jest.fn(async () => void s.events.push('receipt'));
    const webhooks = new PaymentWebhooks(
      s.db,
      s.repo,
      s.orders,
      s.provider,
      refunds,
      { sendFor } as unknown as ReceiptMailer,
      s.metrics,
    );
    s.repo.recordEvent.mockResolvedValue(true);
    s.repo.setEventOutcome.mockResolvedValue();
    s.repo.lock.mockResolvedValue(payment);
    return { ...s, refunds, sendFor, webhooks };
  };

  it('changes nothing for an event id recorded before (a replay or a concurrent duplicate)', async () => {
    const { webhooks, repo, orders } = build();
    repo.recordEvent.mockResolvedValue(false);
    await expect(webhooks.applyOnce(event('payment.succeeded'), '{}')).resolves.toEqual({
      eventId: 'evt_payment.succeeded',
      outcome: 'duplicate',
    });
    expect(repo.lock).not.toHaveBeenCalled();
    expect(repo.transition).not.toHaveBeenCalled();
    expect(orders.markPaid).not.toHaveBeenCalled();
    expect(repo.setEventOutcome).not.toHaveBeenCalled();
  });

  it('records the event first, then its outcome, in one transaction', async () => {
    const { webhooks, repo, orders, db } = build();
    repo.transition.mockResolvedValue(true);
    orders.markPaid.mockResolvedValue('paid');
    await webhooks.applyOnce(event('payment.succeeded'), '{"raw":1}');
    expect(db.transaction).toHaveBeenCalledTimes(1);
    expect(repo.recordEvent).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'evt_payment.succeeded', outcome: 'applied', payload: '{"raw":1}' }),
    );
    expect(repo.setEventOutcome).toHaveBeenCalledWith('evt_payment.succeeded', 'applied', payment.id);
  });

  it('pays the order with a capture and mails the receipt only after the commit', async () => {
    const { webhooks, repo, orders, events } = build();
    repo.transition.mockResolvedValue(true);
    orders.markPaid.mockResolvedValue('paid');
    await expect(webhooks.applyOnce(event('payment.succeeded'), '{}')).resolves.toMatchObject({
      outcome: 'applied',
    });
    expect(repo.transition).toHaveBeenCalledWith(payment.id, 'SUCCEEDED');
    expect(orders.markPaid).toHaveBeenCalledWith(ORDER_ID, { paymentId: payment.id });
    expect(events).toEqual(['commit', 'receipt']);
  });

  it('ignores a capture of a payment already past its sources (e.g. SUCCEEDED) and a failure after a capture', async () => {
    const { webhooks, repo, orders } = build();
    repo.transition.mockResolvedValue(false);
    await expect(webhooks.applyOnce(event('payment.succeeded'), '{}')).resolves.toMatchObject({
      outcome: 'ignored_state',
    });
    await expect(webhooks.applyOnce(event('payment.failed'), '{}')).resolves.toMatchObject({
      outcome: 'ignored_state',
    });
    expect(repo.transition.mock.calls).toEqual([
      [payment.id, 'SUCCEEDED'],
      [payment.id, 'FAILED'],
    ]);
    expect(orders.markPaid).not.toHaveBeenCalled();
  });

  it('fails a PENDING payment on a failure event, without touching the order', async () => {
    const { webhooks, repo, orders } = build();
    repo.transition.mockResolvedValue(true);
    await expect(webhooks.applyOnce(event('payment.failed'), '{}')).resolves.toMatchObject({
      outcome: 'applied',
    });
    expect(repo.transition).toHaveBeenCalledWith(payment.id, 'FAILED');
    expect(orders.markPaid).not.toHaveBeenCalled();
  });

  it.each([
    ['its order expired (a late capture)', 'FAILED'],
    ['its order was paid by another payment (a capture that pays nothing)', 'CANCELLED'],
  ])('refunds in full a capture when %s, after the commit', async (_case, status) => {
    const { webhooks, repo, orders, refunds, events } = build();
    const late = aPayment({ status: status as 'FAILED' | 'CANCELLED', activeOrderId: null });
    repo.lock.mockResolvedValue(late);
    repo.transition.mockResolvedValue(true);
    orders.markPaid.mockResolvedValue('not_payable');
    const refund = aRefund({ reason: 'order_not_payable' });
    refunds.reserve.mockResolvedValue(refund);
    refunds.completeOrRetryLater.mockImplementation(async () => void events.push('refund completed'));

    await expect(webhooks.applyOnce(event('payment.succeeded'), '{}')).resolves.toMatchObject({
      outcome: 'auto_refund',
    });
    expect(refunds.reserve).toHaveBeenCalledWith(late, 1000, 'order_not_payable', false);
    expect(refunds.completeOrRetryLater).toHaveBeenCalledWith(refund.id);
    expect(events).toEqual(['commit', 'refund completed']);
    expect(repo.setEventOutcome).toHaveBeenCalledWith('evt_payment.succeeded', 'auto_refund', late.id);
  });

  it('records, and does not act on, an event whose order, amount or currency disagree with the payment', async () => {
    const { webhooks, repo } = build();
    for (const data of [
      { amount: 999 },
      { currency: 'USD' },
      { orderId: '01936f0e-0000-7000-8000-0000000000ff' },
    ])
      await expect(webhooks.applyOnce(event('payment.succeeded', data), '{}')).resolves.toMatchObject({
        outcome: 'mismatch',
      });
    expect(repo.transition).not.toHaveBeenCalled();
  });

  it('records an event for an unknown payment as unknown_payment', async () => {
    const { webhooks, repo } = build();
    repo.lock.mockResolvedValue(null);
    await expect(webhooks.applyOnce(event('payment.succeeded'), '{}')).resolves.toMatchObject({
      outcome: 'unknown_payment',
    });
    expect(repo.setEventOutcome).toHaveBeenCalledWith('evt_payment.succeeded', 'unknown_payment', null);
  });
});
