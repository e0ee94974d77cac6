import { Module } from '@nestjs/common';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { MailTemplatesService } from './mail-templates';
import { MailTransport } from './mail-transport';
import { MailProcessor } from './mail.processor';
import { MailService } from './mail.service';

/** Email: the `email` queue, templates, SMTP transport and its consumer. Use MailService. */
@Module({
  imports: [registerQueues(QUEUES.email)],
  providers: [MailService, MailTemplatesService, MailTransport, MailProcessor],
  exports: [MailService],
})
export class NotificationsModule {}
