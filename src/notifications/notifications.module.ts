import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { QUEUES, queueJobOptions } from '../infra/queue/queues';
import { MailTemplatesService } from './mail-templates';
import { MailTransport } from './mail-transport';
import { MailProcessor } from './mail.processor';
import { MailService } from './mail.service';

/** Email: the `email` queue, templates, SMTP transport and its consumer. Use MailService. */
@Module({
  imports: [
    BullModule.registerQueue({ name: QUEUES.email, defaultJobOptions: queueJobOptions(QUEUES.email) }),
  ],
  providers: [MailService, MailTemplatesService, MailTransport, MailProcessor],
  exports: [MailService],
})
export class NotificationsModule {}
