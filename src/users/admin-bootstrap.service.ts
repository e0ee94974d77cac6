import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config';
import { EmailTakenError } from './auth.errors';
import { hashPassword } from './passwords';
import { UsersService } from './users.service';

/**
 * Creates the ADMIN_EMAIL account at start when it does not exist. Several instances may start
 * at once: the unique email index lets exactly one insert win and the others move on. An
 * existing account is left as it is (its password is not reset from the environment).
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
    if (await this.users.existsByEmail(email)) return;
    try {
      await this.users.create({
        email,
        name: 'Administrator',
        role: 'admin',
        passwordHash: await hashPassword(password),
      });
      this.logger.log(`created admin account ${email}`);
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err;
    }
  }
}
