import { simpleParser } from 'mailparser';
import { addressOf, buildMessage, rfc5322Date } from './mime-message';

const base = {
  from: 'nest-commerce <no-reply@shop.local>',
  to: 'ada@example.com',
  subject: 'We received your order ord-1',
  text: 'Hello Ada,\n.a line with a leading dot\nTotal: €75.00\n',
  html: '<p>Hello Ada</p>\n<p>Total: €75.00</p>',
  messageId: '<abc123@shop.local>',
  headers: { 'X-Mail-Template': 'order-confirmation' },
  date: new Date('2026-12-07T05:24:21.000Z'),
};

describe('buildMessage', () => {
  it('is a multipart/alternative RFC 5322 message that a parser reads back as it was given', async () => {
    const raw = buildMessage(base);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(base.subject);
    expect(parsed.from?.value).toEqual([{ address: 'no-reply@shop.local', name: 'nest-commerce' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'ada@example.com', name: '' }] });
    expect(parsed.messageId).toBe('<abc123@shop.local>');
    expect(parsed.date?.toISOString()).toBe('2026-12-07T05:24:21.000Z');
    expect(parsed.text).toBe(base.text);
    expect(parsed.html).toBe(base.html);
    expect(parsed.headers.get('x-mail-template')).toBe('order-confirmation');
    expect(parsed.headers.get('mime-version')).toBe('1.0');
  });

  it('uses CRLF only, keeps every line within 998 characters and ends the body with its closing boundary', () => {
    const text = `${'x'.repeat(2000)}\n.dot`;
    const raw = buildMessage({ ...base, text, html: 'plain <b>ascii</b>\r\n.dot' }).toString('utf8');
    expect(raw).not.toMatch(/[^\r]\n|\r[^\n]/);
    expect(raw.split('\r\n').every((l) => l.length <= 998)).toBe(true);
    expect(raw).toMatch(/--=_nc_[0-9a-f]+_[0-9a-z]+--\r\n$/);
    // ASCII parts go as 7bit, others as base64; leading dots stay as they are (SMTP stuffs them).
    expect(raw).toContain('Content-Transfer-Encoding: 7bit\r\n\r\nplain <b>ascii</b>\r\n.dot');
    expect(raw).toContain('Content-Transfer-Encoding: base64');
  });

  it('encodes non-ASCII subjects and names as encoded-words and quotes names with specials', async () => {
    const subject = `Grüße — ${'Bestellung '.repeat(8)}ord-ü`;
    const raw = buildMessage({ ...base, subject, from: 'Zoë, Shop <no-reply@shop.local>' });
    expect(raw.every((b) => b < 0x80)).toBe(true);
    const parsed = await simpleParser(raw);
    expect(parsed.subject).toBe(subject);
    expect(parsed.from?.value).toEqual([{ address: 'no-reply@shop.local', name: 'Zoë, Shop' }]);
    const quoted = await simpleParser(buildMessage({ ...base, from: 'Shop, Inc. <a@b.c>' }));
    expect(quoted.from?.value).toEqual([{ address: 'a@b.c', name: 'Shop, Inc.' }]);
  });

  it('strips line breaks from header values so nothing can be injected', async () => {
    const raw = buildMessage({ ...base, subject: 'hi\r\nBcc: eve@example.com' });
    const parsed = await simpleParser(raw);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.subject).toBe('hi Bcc: eve@example.com');
  });
});

describe('addressOf / rfc5322Date', () => {
  it('gives the envelope address of a mailbox', () => {
    expect(addressOf('Shop <no-reply@shop.local>')).toBe('no-reply@shop.local');
    expect(addressOf(' a@b.c ')).toBe('a@b.c');
  });

  it('formats dates in UTC with a numeric zone', () => {
    expect(rfc5322Date(new Date('2026-01-02T03:04:05Z'))).toBe('Fri, 02 Jan 2026 03:04:05 +0000');
  });
});
