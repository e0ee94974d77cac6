import { MailCatcher } from '../../scripts/infra/mail-catcher';
import { FaultProxy } from './fault-proxy';

export interface ProxiedSmtp {
  /** The project's mail catcher (a real SMTP server) on a free port. */
  smtp: MailCatcher;
  /** In front of it: the app sends to `proxy.port`, so a test can slow SMTP down or take it away. */
  proxy: FaultProxy;
  stop(): Promise<void>;
}

export async function proxiedSmtp(): Promise<ProxiedSmtp> {
  const smtp = new MailCatcher({ smtpPort: 0 });
  await smtp.start();
  const proxy = new FaultProxy('127.0.0.1', smtp.smtpPort);
  await proxy.start();
  return {
    smtp,
    proxy,
    stop: async () => {
      await proxy.stop();
      await smtp.stop();
    },
  };
}
