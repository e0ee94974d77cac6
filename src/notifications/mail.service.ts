import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { UnavailableError, ValidationFailedError } from '../common/errors/domain-error';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import type { MailJob, MailTemplate, SendMail } from './mail.types';

/** Bound on the enqueue when Redis is connected but does not answer. Attempts and backoff: queues.ts. */
const ENQUEUE_TIMEOUT_MS = 2000;

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
    // Bull's connection queues commands while Redis is away: refuse at once when it is not
    // connected, and bound the wait when it is connected but does not answer.
    if (this.queue.client.status !== 'ready') throw new UnavailableError('The mail queue is unavailable');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.add(traced({ ...mail } as MailJob), { jobId: mail.dedupeKey }),
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
