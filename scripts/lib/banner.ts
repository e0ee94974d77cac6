import { AppConfig, ENV_DEFAULTS } from '../../src/infra/config/app-config';

/** The admin's login for a banner (Bull Board takes it as HTTP Basic): the password only while it is the public development default. */
export function adminLogin(config: AppConfig): string {
  const dev = config.admin.password === ENV_DEFAULTS.ADMIN_PASSWORD;
  return `${config.admin.email} / ${dev ? config.admin.password : 'your ADMIN_PASSWORD'}`;
}
