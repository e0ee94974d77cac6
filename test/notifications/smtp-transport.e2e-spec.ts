import type { AppConfig } from '../../src/infra/config/app-config';
import { MailTransport } from '../../src/notifications/testing';
import { uniqueEmail } from '../support/auth';
import { ProxiedSmtp, proxiedSmtp } from '../support/smtp-sink';
import { eventually } from '../support/test-app';

const transportTo = (port: number) =>
  new MailTransport({ mail: { smtpUrl: `smtp://127.0.0.1:${port}` } } as AppConfig);

/**
 * MailTransport (decision 0029: each message built once as a Buffer, sent on pooled
 * SMTPConnections) against the project's real SMTP sink: what arrives is what was sent, and a
 * server that takes the connection but never answers fails the send within its timeout (through
 * the email queue: test/users/mail.e2e-spec.ts).
 */
describe('notifications: the SMTP transport on the wire', () => {
  let sink: ProxiedSmtp;
  beforeAll(async () => void (sink = await proxiedSmtp()));
  afterAll(() => sink.stop());

  it('delivers a well-formed message: subject, from/to, UTF-8 text and HTML, lines starting with dots, headers', async () => {
    const transport = transportTo(sink.smtp.smtpPort);
    const to = uniqueEmail('wire');
    const text = 'Grüße, Zoë!\n.a line that starts with a dot\n..and two\n.\nTotal: €75.00 — ¥5,000\n';
    const html = '<p>ASCII html</p>\n.dot at the start of a 7bit line\n<p>end</p>';
    try {
      const sent = await transport.send({
        from: 'Zoë’s Shop <no-reply@shop.test>',
        to,
        subject: 'Ihre Bestellung — Grüße ord-1',
        text,
        html,
        messageId: '<wire-1@shop.test>',
        headers: { 'X-Mail-Template': 'order-confirmation' },
      });
      expect(sent.messageId).toBe('<wire-1@shop.test>');
      expect(sent.response).toMatch(/^250/);
      const got = await sink.smtp.waitFor((m) => m.to.includes(to), 10000);
      expect(got).toMatchObject({
        subject: 'Ihre Bestellung — Grüße ord-1',
        from: 'no-reply@shop.test',
        fromText: '"Zoë’s Shop" <no-reply@shop.test>',
        to: [to],
        envelope: { from: 'no-reply@shop.test', to: [to] },
        text,
        html,
      });
      expect(got.headers['message-id']).toBe('<wire-1@shop.test>');
      expect(got.headers['x-mail-template']).toBe('order-confirmation');
      expect(got.headers['mime-version']).toBe('1.0');
      expect(new Date(got.date).getTime()).toBeGreaterThan(Date.now() - 60000);
      // A second message goes on the same kept-open connection.
      await transport.send({
        from: 'a@shop.test',
        to,
        subject: 'again',
        text: 'x',
        html: 'x',
        messageId: '<wire-2@shop.test>',
      });
      await eventually(async () => sink.smtp.messages.filter((m) => m.to.includes(to)).length === 2, 10000);
    } finally {
      transport.onApplicationShutdown();
    }
  });

  it('a server that accepts the connection but never answers fails the send within the greeting timeout, and so does a kept-open connection that stops answering', async () => {
    const transport = transportTo(sink.proxy.port);
    const mail = (n: number) => ({
      from: 'a@shop.test',
      to: uniqueEmail('hang'),
      subject: `hang ${n}`,
      text: 'x',
      html: 'x',
      messageId: `<hang-${n}@shop.test>`,
    });
    try {
      await sink.proxy.set('blackhole');
      let started = Date.now();
      await expect(transport.send(mail(1))).rejects.toThrow(/greeting/i);
      expect(Date.now() - started).toBeLessThan(8000);

      await sink.proxy.set('pass');
      await transport.send(mail(2)); // a connection is open and idle in the pool now
      await sink.proxy.set('blackhole'); // its bytes are swallowed from here on
      started = Date.now();
      await expect(transport.send(mail(3))).rejects.toThrow(/timeout|no answer/i);
      expect(Date.now() - started).toBeLessThan(22000);

      await sink.proxy.set('pass');
      await transport.send(mail(4)); // a fresh connection replaces the broken one
    } finally {
      await sink.proxy.set('pass');
      transport.onApplicationShutdown();
    }
  }, 45000);
});
