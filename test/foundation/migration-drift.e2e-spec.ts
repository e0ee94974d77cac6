import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/infra/config/app-config';
import { migrationCliOptions } from '../../src/infra/database/typeorm-options';

/**
 * `npm run migration:generate` diffs the entities against the schema the migrations built. On
 * this run's freshly migrated database it must find nothing to change: every index, unique key,
 * default and column the hand-written migrations create is mirrored in the entities, so a
 * generated migration never drops or alters what the migrations made.
 */
describe('migrations and entities agree', () => {
  let ds: DataSource;
  beforeAll(async () => {
    const config = loadConfig({ ...process.env });
    // The same DataSource as the migration CLI (src/infra/database/data-source.ts).
    ds = new DataSource(await migrationCliOptions(config.db.primary));
    await ds.initialize();
  });
  afterAll(() => ds?.destroy());

  it('migration:generate against the freshly migrated schema finds no change for any entity', async () => {
    expect(ds.entityMetadatas.map((m) => m.tableName)).toEqual(
      expect.arrayContaining([
        'users',
        'orders',
        'inventory_items',
        'flash_sales',
        'payments',
        'login_audits',
      ]),
    );
    const sql = await ds.driver.createSchemaBuilder().log();
    const changes = sql.upQueries.map((q) => q.query);
    if (changes.length)
      throw new Error(
        `migration:generate would write ${changes.length} statement(s); mirror the migrations in the entities ` +
          `(@Index/@Unique with the migrations' names, defaults, types):\n${changes.join(';\n')};`,
      );
    expect(changes).toEqual([]);
  });
});
