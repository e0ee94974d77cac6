import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config';
import { MailMessage, addressOf, buildMessage } from './mime-message';
import { SmtpPool } from './smtp-pool';

/**
 * SMTP over SMTP_URL (`smtp://[user:pass@]host:port`, `smtps://` for implicit TLS; STARTTLS when
 * the server offers it; AUTH with the URL's credentials). Each message is built once as a Buffer
 * (mime-message.ts) and sent on a small pool of kept-open connections (smtp-pool.ts, nodemailer's
 * SMTPConnection, the envelope pipelined where the server offers PIPELINING): decision 0029.
 * Short timeouts: a hung server fails the attempt and Bull retries it later, instead of holding a
 * worker slot for minutes; a connection that breaks is replaced on the next send.
 */
@Injectable()
export class MailTransport implements OnApplicationShutdown {
  private readonly pool: SmtpPool;

  constructor(config: AppConfig) {
    const u = new URL(config.mail.smtpUrl);
    const secure = u.protocol === 'smtps:';
    this.pool = new SmtpPool({
      host: u.hostname,
      port: u.port ? Number(u.port) : secure ? 465 : 25,
      secure,
      auth: u.username
        ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
        : undefined,
      maxConnections: 3,
      maxMessages: 500,
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 15000,
      sendTimeout: 20000,
    });
  }

  /** Resolves once the server accepted the message (250 to its data); rejects otherwise. */
  async send(message: MailMessage): Promise<{ messageId: string; response: string }> {
    const info = await this.pool.send(
      { from: addressOf(message.from), to: [addressOf(message.to)] },
      buildMessage(message),
    );
    if (!info.accepted.length) throw new Error(`SMTP: recipient refused: ${info.response}`);
    return { messageId: message.messageId, response: info.response };
  }

  /**
   * Closed last: the email queue's consumer stops and its running sends finish in the
   * onModuleDestroy wave (WorkerRegistry), so nothing is mid-send by now.
   */
  onApplicationShutdown(): void {
    this.pool.close();
  }
}
