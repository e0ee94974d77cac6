import { Logger } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config';
import { AdminBootstrap } from './admin-bootstrap.service';
import type { User } from './user.entity';
import type { UsersService } from './users.service';

const config = { admin: { email: 'admin@shop.test', password: 'admin-password' } } as AppConfig;

/** A UsersService holding one account (or none) under ADMIN_EMAIL; records what is created. */
function usersWith(existing: Partial<User> | null) {
  const created: unknown[] = [];
  const users = {
    findCredentials: async () => existing as User | null,
    create: async (input: unknown) => {
      created.push(input);
      return input;
    },
  } as unknown as UsersService;
  return { users, created };
}

describe('AdminBootstrap', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => warn.mockRestore());

  it('warns, and changes nothing, when ADMIN_EMAIL belongs to an account that is not an admin', async () => {
    const { users, created } = usersWith({ id: 'u1', email: config.admin.email, role: 'customer' });
    await new AdminBootstrap(config, users).onApplicationBootstrap();
    expect(created).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/ADMIN_EMAIL admin@shop\.test .*role customer, not admin/);
  });

  it('stays silent when the account is already an admin, and creates the admin when there is none', async () => {
    const admin = usersWith({ id: 'u2', email: config.admin.email, role: 'admin' });
    await new AdminBootstrap(config, admin.users).onApplicationBootstrap();
    expect(admin.created).toEqual([]);
    const none = usersWith(null);
    await new AdminBootstrap(config, none.users).onApplicationBootstrap();
    expect(none.created).toEqual([expect.objectContaining({ email: config.admin.email, role: 'admin' })]);
    expect(warn).not.toHaveBeenCalled();
  });
});
