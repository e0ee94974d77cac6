import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import nodemailer, { Transporter } from 'nodemailer';
import { AppConfig } from '../infra/config/app-config';

/**
 * nodemailer over SMTP_URL (`smtp://[user:pass@]host:port`, `smtps://` for implicit TLS).
 * Short timeouts: a hung server fails the attempt and Bull retries it later, instead of
 * holding a worker slot for minutes. Pooled: a few SMTP connections are kept open and reused
 * (a connection + greeting per mail was most of the cost of sending one); a pooled connection
 * that breaks is replaced on the next send.
 */
@Injectable()
export class MailTransport implements OnApplicationShutdown {
  readonly transporter: Transporter;

  constructor(config: AppConfig) {
    const u = new URL(config.mail.smtpUrl);
    const secure = u.protocol === 'smtps:';
    this.transporter = nodemailer.createTransport({
      host: u.hostname,
      port: u.port ? Number(u.port) : secure ? 465 : 25,
      secure,
      auth: u.username
        ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
        : undefined,
      pool: true,
      maxConnections: 3,
      maxMessages: 500,
      connectionTimeout: 5000,
      greetingTimeout: 5000,
      socketTimeout: 15000,
    });
  }

  /**
   * Closed last: the email queue's consumer stops and its running sends finish in the
   * onModuleDestroy wave (WorkerRegistry), so nothing is mid-send by now.
   */
  onApplicationShutdown(): void {
    this.transporter.close();
  }
}
