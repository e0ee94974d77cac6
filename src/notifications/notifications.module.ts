import { Module } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { MailTemplatesService } from './mail-templates';
import { MailTransport } from './mail-transport';
import { MailProcessor } from './mail.processor';
import { MailService } from './mail.service';
import { SentMailRepository } from './sent-mail.repository';

/** Email: the `email` queue, templates, SMTP transport, its consumer and the sent-mail records. Use MailService. */
@Module({
  imports: [registerQueues(QUEUES.email)],
  providers: [MailService, MailTemplatesService, MailTransport, MailProcessor, SentMailRepository],
  exports: [MailService],
})
export class NotificationsModule {}
