import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { createHash } from 'node:crypto';
import { BatchLoader, BatchWriter } from '../common/batch-loader';
import { AppConfig } from '../infra/config/app-config';
import { QUEUES } from '../infra/queue/queues';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { MailTemplatesService } from './mail-templates';
import { MailTransport } from './mail-transport';
import type { MailJob } from './mail.types';
import { SentMail, SentMailRepository } from './sent-mail.repository';

/**
 * Mail jobs run at once per worker. The SMTP conversations share the pool's few connections
 * (smtp-pool.ts); the rest of a job is mostly waiting on MySQL for its sent check and record, and
 * the more jobs wait together, the fewer statements: each check and record is one per batch.
 */
const MAIL_CONCURRENCY = 20;
/** The sent checks and records of concurrent jobs go to MySQL together: per this many, or ms. */
const SENT_BATCH = 100;
const SENT_DELAY_MS = 2;

export const PURGE_SENT_MAIL_JOB = 'purge-sent-mail';
export const PURGE_SENT_MAIL_EVERY_MS = 3600_000;
/** Rows deleted per statement, and statements per run at most (the next run goes on). */
const PURGE_BATCH = 5000;
const PURGE_MAX_BATCHES = 100;

/**
 * Consumes `email` (worker/all roles): render, send over SMTP, then record the dedupeKey as sent
 * in `sent_mail` (decision 0033). The record is checked first, so a job that runs again after a
 * successful send (a retry after a crash between send and ack, a re-driven dead letter, or the
 * same key queued again once its job was trimmed) sends nothing. A crash between the SMTP accept
 * and the record can still resend once: SMTP gives no exactly-once, and the deterministic
 * Message-ID lets mail clients drop that duplicate.
 *
 * The records live in MySQL, on disk, for DEAD_LETTER_RETENTION_HOURS (the longest a re-drive can
 * come; `purge-sent-mail`, hourly): as Redis keys they grew Redis's memory with every mail sent.
 * The checks and records of concurrent jobs are one statement each.
 */
@Injectable()
export class MailProcessor implements OnModuleInit {
  private readonly logger = new Logger('Mail');
  private readonly sentCheck: BatchLoader<string, true>;
  private readonly sentRecord: BatchWriter<SentMail>;

  constructor(
    private readonly workers: WorkerRegistry,
    private readonly sent: SentMailRepository,
    private readonly templates: MailTemplatesService,
    private readonly transport: MailTransport,
    private readonly config: AppConfig,
  ) {
    const opts = { max: SENT_BATCH, delayMs: SENT_DELAY_MS };
    this.sentCheck = new BatchLoader(
      async (keys) => new Map([...(await sent.sentAmong(keys))].map((k) => [k, true as const])),
      opts,
    );
    this.sentRecord = new BatchWriter((mails) => sent.record(mails), opts);
  }

  onModuleInit(): void {
    this.workers.process<MailJob>(QUEUES.email, (job) => this.handle(job), { concurrency: MAIL_CONCURRENCY });
    this.workers.periodic(
      QUEUES.email,
      PURGE_SENT_MAIL_JOB,
      PURGE_SENT_MAIL_EVERY_MS,
      'sent-mail-purge',
      () => this.purge(),
    );
  }

  async handle(job: Job<MailJob>): Promise<'sent' | 'already-sent'> {
    const { template, to, data, dedupeKey } = job.data;
    if (await this.sentCheck.load(dedupeKey)) return 'already-sent';
    const rendered = this.templates.render(template, data);
    const domain = this.config.mail.from.match(/@([^>\s]+)/)?.[1] ?? 'localhost';
    const messageId = `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@${domain}>`;
    const info = await this.transport.send({
      from: this.config.mail.from,
      to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId,
      headers: { 'X-Mail-Template': template },
    });
    await this.sentRecord.write({ dedupeKey, template, messageId: String(info.messageId ?? messageId) });
    this.logger.log(`sent ${template} (${dedupeKey}) after ${job.attemptsMade + 1} attempt(s)`);
    return 'sent';
  }

  /** One retention run: deletes the records older than DEAD_LETTER_RETENTION_HOURS; answers how many. */
  async purge(): Promise<number> {
    let purged = 0;
    for (let i = 0; i < PURGE_MAX_BATCHES; i++) {
      const n = await this.sent.purge(this.config.queues.deadLetterRetentionMs, PURGE_BATCH);
      purged += n;
      if (n < PURGE_BATCH) break;
    }
    if (purged)
      this.logger.log(
        `sent-mail retention: ${purged} record(s) older than DEAD_LETTER_RETENTION_HOURS deleted`,
      );
    return purged;
  }
}
