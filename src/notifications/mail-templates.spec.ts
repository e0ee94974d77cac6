import { MailTemplatesService } from './mail-templates';

describe('MailTemplatesService', () => {
  const templates = new MailTemplatesService();

  it('renders subject, HTML (escaped) and text (verbatim) for welcome', () => {
    const r = templates.render('welcome', { name: 'Ada <3', email: 'ada@example.com' });
    expect(r.subject).toBe('Welcome to nest-commerce, Ada <3');
    expect(r.html).toContain('Welcome, Ada &lt;3!');
    expect(r.text).toContain('Welcome, Ada <3!');
  });

  it('formats money from minor units with the currency’s own decimals', () => {
    const r = templates.render('payment-receipt', {
      orderId: 'o',
      paymentId: 'p',
      amount: 1234,
      currency: 'EUR',
    });
    expect(r.text).toContain('€12.34');
    const jpy = templates.render('payment-receipt', {
      orderId: 'o',
      paymentId: 'p',
      amount: 1234,
      currency: 'JPY',
    });
    expect(jpy.text).toContain('¥1,234');
  });

  it('keeps header injection out of the subject', () => {
    const r = templates.render('low-stock', { sku: 'A\r\nBcc: x@y', available: 1, threshold: 2 });
    expect(r.subject).not.toMatch(/[\r\n]/);
  });
});
