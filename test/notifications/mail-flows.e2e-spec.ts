import { MailCatcher } from '../../scripts/infra/mail-catcher';
import { adminToken, registerUser, uniqueEmail } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, uniqueSku } from '../orders/builders';

/**
 * The mails other modules send, received on the wire: the app (role `all`, so its own worker
 * consumes the email queue) talks to a real SMTP server started here; nothing is spied on.
 */
describe('notifications: order confirmation and low-stock alert arrive over SMTP', () => {
  let smtp: MailCatcher;
  let t: TestApp;
  let admin: string;
  const ops = uniqueEmail('ops');
  const to = (email: string) => smtp.messages.filter((m) => m.to.includes(email));

  beforeAll(async () => {
    smtp = new MailCatcher({ smtpPort: 0 });
    await smtp.start();
    t = await startApp({
      SMTP_URL: `smtp://127.0.0.1:${smtp.smtpPort}`,
      MAIL_FROM: 'Shop <no-reply@shop.test>',
      OPS_EMAIL: ops,
    });
    admin = await adminToken(t);
  });
  afterAll(async () => {
    await t.close();
    await smtp.stop();
  });

  it('placing an order mails the customer one order confirmation (items, total, awaiting payment), and the order that takes a SKU below its threshold mails ops one low-stock alert', async () => {
    const sku = uniqueSku('MAIL');
    await createProduct(t, admin, [{ sku, price: 1250, currency: 'EUR', stockOnHand: 10 }]);
    const put = await http('PUT', t.api(`/inventory/${sku}`), {
      token: admin,
      body: { lowStockThreshold: 5 },
    });
    expect(put.status).toBe(200);
    const buyer = await registerUser(t, { name: 'Ada' });

    const order = await placeOrder(t, buyer.accessToken, [{ sku, quantity: 6 }]);
    expect(order.status).toBe(201);
    const orderId: string = order.body.id;

    const confirmation = await smtp.waitFor(
      (m) => m.to.includes(buyer.email) && m.subject.includes(orderId),
      30000,
    );
    expect(confirmation.subject).toBe(`We received your order ${orderId}`);
    expect(confirmation.from).toBe('no-reply@shop.test');
    expect(confirmation.headers['x-mail-template']).toBe('order-confirmation');
    expect(confirmation.text).toContain(`${sku}`);
    expect(confirmation.text).toContain('x 6: €75.00');
    expect(confirmation.text).toContain('Total: €75.00');
    expect(confirmation.text).toContain('awaits payment');
    expect(confirmation.html).toContain('Thank you for your order, Ada');

    const alert = await smtp.waitFor((m) => m.to.includes(ops) && m.subject.includes(sku), 30000);
    expect(alert.subject).toBe(`Low stock: ${sku} (4 left)`);
    expect(alert.headers['x-mail-template']).toBe('low-stock');

    // Once each: a second order of the same SKU (already below) sends its own confirmation and no new alert.
    const second = await placeOrder(t, buyer.accessToken, [{ sku, quantity: 1 }]);
    expect(second.status).toBe(201);
    await smtp.waitFor((m) => m.to.includes(buyer.email) && m.subject.includes(second.body.id), 30000);
    expect(to(buyer.email).filter((m) => m.subject.includes(orderId))).toHaveLength(1);
    expect(to(ops).filter((m) => m.subject.includes(sku))).toHaveLength(1);
  });
});
