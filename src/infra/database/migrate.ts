/**
 * Applies pending migrations to DB_PRIMARY_URL: `node dist/infra/database/migrate.js` (from the
 * build, e.g. the Kubernetes Job); `npm run migration:run` (scripts/migrate.ts) resolves the local
 * infrastructure's primary first, like every other local command.
 * Safe to run from several processes at once: a MySQL named lock serialises them.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigValidationError, MysqlTarget, appConfig } from '../config/app-config';
import { MIGRATION_GLOBS, mysqlOptions } from './typeorm-options';

export async function runMigrations(
  target: MysqlTarget,
  log: (s: string) => void = console.log,
): Promise<string[]> {
  const ds = new DataSource({
    ...mysqlOptions(target, 2),
    migrations: MIGRATION_GLOBS,
    migrationsTableName: 'migrations',
  });
  await ds.initialize();
  try {
    const qr = ds.createQueryRunner();
    await qr.connect();
    // 1 = ours; 0 = another process held it for the whole wait; NULL = error. Never migrate without it.
    const [lock] = await qr.query(`SELECT GET_LOCK('nest_commerce_migrations', 120) AS got`);
    if (Number(lock?.got) !== 1) {
      await qr.release();
      throw new Error(
        'another process held the migration lock (nest_commerce_migrations) for 120 s; not migrating without it',
      );
    }
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      for (const m of applied) log(`applied migration ${m.name}`);
      if (!applied.length) log('migrations: schema is up to date');
      return applied.map((m) => m.name);
    } finally {
      await qr.query(`SELECT RELEASE_LOCK('nest_commerce_migrations')`).catch(() => undefined);
      await qr.release();
    }
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  try {
    const config = appConfig();
    runMigrations(config.db.primary).catch((err: Error) => {
      console.error(`migration failed: ${err.message}`);
      process.exit(1);
    });
  } catch (err) {
    console.error((err as ConfigValidationError).message);
    process.exit(1);
  }
}
