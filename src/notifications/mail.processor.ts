import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { createHash } from 'node:crypto';
import { AppConfig } from '../infra/config/app-config';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { RedisService } from '../infra/redis/redis.service';
import { MailTemplatesService } from './mail-templates';
import { MailTransport } from './mail-transport';
import type { MailJob } from './mail.types';

/** How long "this dedupeKey was sent" is remembered: longer than any retry schedule. */
const SENT_MARKER_TTL_SECONDS = 30 * 24 * 3600;

/**
 * Consumes `email` (worker/all roles): render, send over SMTP, then mark the dedupeKey as sent.
 * The marker is checked first, so a job that runs again after a successful send (a retry after a
 * crash between send and ack, or the same key queued again once its job was trimmed) sends
 * nothing. A crash between the SMTP accept and the marker can still resend once: SMTP gives no
 * exactly-once, and the deterministic Message-ID lets mail clients drop that duplicate.
 */
@Injectable()
export class MailProcessor implements OnModuleInit {
  private readonly logger = new Logger('Mail');

  constructor(
    private readonly workers: WorkerRegistry,
    private readonly redis: RedisService,
    private readonly templates: MailTemplatesService,
    private readonly transport: MailTransport,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.workers.process<MailJob>(QUEUES.email, (job) => this.handle(job), { concurrency: 5 });
  }

  async handle(job: Job<MailJob>): Promise<'sent' | 'already-sent'> {
    const { template, to, data, dedupeKey } = job.data;
    const marker = this.redis.key('mail', 'sent', dedupeKey);
    if (await this.redis.client.exists(marker)) return 'already-sent';
    const rendered = this.templates.render(template, data);
    const domain = this.config.mail.from.match(/@([^>\s]+)/)?.[1] ?? 'localhost';
    const info = await this.transport.send({
      from: this.config.mail.from,
      to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId: `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@${domain}>`,
      headers: { 'X-Mail-Template': template },
    });
    await this.redis.client.set(marker, String(info.messageId ?? '1'), 'EX', SENT_MARKER_TTL_SECONDS);
    this.logger.log(`sent ${template} (${dedupeKey}) after ${job.attemptsMade + 1} attempt(s)`);
    return 'sent';
  }
}
