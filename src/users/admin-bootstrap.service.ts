import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config';
import { EmailTakenError } from './auth.errors';
import { hashPassword } from './passwords';
import { UsersService } from './users.service';

/**
 * Creates the ADMIN_EMAIL account at start when it does not exist. Several instances may start
 * at once: the unique email index lets exactly one insert win and the others move on. An
 * existing account is left as it is (its password is not reset from the environment, nor its
 * role raised); if it is not an admin, a warning says so.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminBootstrap');

  constructor(
    private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password } = this.config.admin;
    const existing = await this.users.findCredentials(email);
    if (existing) {
      // Left as it is, but an ADMIN_EMAIL that belongs to a customer means there may be no admin at all.
      if (existing.role !== 'admin')
        this.logger.warn(
          `ADMIN_EMAIL ${email} belongs to an existing account with role ${existing.role}, not admin: it was left unchanged and no admin account was created`,
        );
      return;
    }
    try {
      await this.users.create({
        email,
        name: 'Administrator',
        role: 'admin',
        // The operator chose this address: there is no one to send a verification link to.
        emailVerified: true,
        passwordHash: await hashPassword(password),
      });
      this.logger.log(`created admin account ${email}`);
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err;
    }
  }
}
