/** The notifications module's public API: send mail through MailService only. */
export { MailService } from './mail.service';
export type { MailTemplate, MailTemplates, SendMail } from './mail.types';
