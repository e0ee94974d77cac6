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
    const receipt = (currency: string) =>
      templates.render('payment-receipt', { orderId: 'o', paymentId: 'p', amount: 1234, currency });
    expect(receipt('EUR').text).toContain('€12.34');
    expect(receipt('JPY').text).toContain('¥1,234');
  });

  it('keeps header injection out of the subject', () => {
    const r = templates.render('low-stock', { sku: 'A\r\nBcc: x@y', available: 1, threshold: 2 });
    expect(r.subject).not.toMatch(/[\r\n]/);
  });

  it('renders the account mails with their links (HTML attribute-escaped, text verbatim)', () => {
    const url = 'https://shop.example.com/verify-email?token=abc.def&x=<1>';
    const welcome = templates.render('welcome', { name: 'Ada', email: 'ada@example.com', verifyUrl: url });
    expect(welcome.text).toContain(url);
    // Escaped for HTML (`=` as &#x3D;, `&` as &amp;): a browser reads the same URL back.
    expect(welcome.html).toContain(
      'href="https://shop.example.com/verify-email?token&#x3D;abc.def&amp;x&#x3D;&lt;1&gt;"',
    );
    expect(templates.render('welcome', { name: 'Ada', email: 'ada@example.com' }).text).not.toContain(
      'confirm',
    );
    const verify = templates.render('verify-email', { name: 'Ada', verifyUrl: url, expiresInHours: 48 });
    expect(verify.subject).toBe('Confirm your email address');
    expect(verify.text).toContain('48 hours');
    const reset = templates.render('password-reset', {
      name: 'Ada',
      resetUrl: 'https://shop.example.com/reset-password?token=t',
      expiresInMinutes: 30,
    });
    expect(reset.text).toContain('https://shop.example.com/reset-password?token=t');
    expect(reset.text).toContain('30 minutes');
    const changed = (via: 'change' | 'reset') =>
      templates.render('password-changed', { name: 'Ada', email: 'ada@example.com', via }).text;
    expect(changed('reset')).toContain('reset through an emailed link');
    expect(changed('change')).toContain('was just changed');
  });
});
