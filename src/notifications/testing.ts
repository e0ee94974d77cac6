/**
 * What only test/, scripts/ and bench/ may import from the notifications module (the transport
 * and the templates a test or a benchmark drives directly). Application code uses `./index.ts`;
 * dependency-cruiser forbids importing this file from src/.
 */
export { MailTransport } from './mail-transport';
export { MailTemplatesService } from './mail-templates';
export type { MailMessage } from './mime-message';
export { MailProcessor } from './mail.processor';
export { SentMailRepository, sentMailKey } from './sent-mail.repository';
