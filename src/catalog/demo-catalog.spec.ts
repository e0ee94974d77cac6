import { Logger } from '@nestjs/common';
import type { AppConfig } from '../infra/config/app-config';
import { automock } from '../../test/support/unit-stubs';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';
import { DemoCatalogSeeder } from './demo-catalog';

const seederWith = (config: Pick<AppConfig, 'seedDemoData' | 'role'>) => {
  const seeder = new DemoCatalogSeeder(
    automock(CatalogRepository),
    automock(CatalogService),
    config as AppConfig,
  );
  const seed = jest.spyOn(seeder, 'seed').mockResolvedValue({ categories: 0, products: 0 });
  return { seeder, seed };
};

describe('DemoCatalogSeeder at start', () => {
  it.each([
    { seedDemoData: true, role: 'api', seeds: true },
    { seedDemoData: true, role: 'all', seeds: true },
    { seedDemoData: true, role: 'worker', seeds: false },
    { seedDemoData: false, role: 'all', seeds: false },
  ] as const)('SEED_DEMO_DATA=$seedDemoData, APP_ROLE=$role: seeds $seeds', async ({ seeds, ...config }) => {
    const { seeder, seed } = seederWith(config);
    await seeder.onApplicationBootstrap();
    expect(seed).toHaveBeenCalledTimes(seeds ? 1 : 0);
  });

  it('logs a failed seeding and lets the process start', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const { seeder, seed } = seederWith({ seedDemoData: true, role: 'all' });
      seed.mockRejectedValue(new Error('replica down'));
      await expect(seeder.onApplicationBootstrap()).resolves.toBeUndefined();
      expect(error.mock.calls).toEqual([['demo catalog seeding failed: replica down']]);
    } finally {
      error.mockRestore();
    }
  });
});
