import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import { UnavailableError, ValidationFailedError } from '../common/errors/domain-error';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import type { MailJob, MailTemplate, SendMail } from './mail.types';

/**
 * Exponential backoff from 2 s over 10 attempts: retries at 2, 4, 8, ... s, about 17 minutes in
 * all, so an SMTP outage of minutes delays mail without losing it. Failed jobs stay in Redis
 * (DEFAULT_JOB_OPTIONS.removeOnFail) for inspection and retry from Bull Board.
 */
const ENQUEUE_TIMEOUT_MS = 2000;

export const MAIL_JOB_OPTIONS: JobOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 2000 },
};

/**
 * The only way modules send mail: queue it on `email` and return. The SMTP conversation
 * happens in the worker (MailProcessor), never on a request path. Rejects when the job could
 * not be queued (Redis down) so a caller that must not lose the mail (an outbox) retries;
 * callers for whom mail is a nicety catch and log.
 */
@Injectable()
export class MailService {
  constructor(@InjectQueue(QUEUES.email) private readonly queue: Queue<MailJob>) {}

  async send<T extends MailTemplate>(mail: SendMail<T>): Promise<void> {
    if (!/^[^@\s]+@[^@\s]+$/.test(mail.to))
      throw new ValidationFailedError(`not an email address: ${mail.to}`);
    if (!mail.dedupeKey) throw new ValidationFailedError('dedupeKey is required');
    // Bull's connection queues commands while Redis is away; bound the wait instead of hanging.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.add(traced({ ...mail } as MailJob), { ...MAIL_JOB_OPTIONS, jobId: mail.dedupeKey }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new UnavailableError('The mail queue is unavailable')),
            ENQUEUE_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
