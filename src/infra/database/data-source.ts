/**
 * DataSource for the TypeORM CLI (`npm run migration:run`, `migration:generate`). Entities are
 * discovered by file name so `migration:generate` can diff them against DB_PRIMARY_URL.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app-config';
import { MIGRATION_GLOBS, mysqlOptions } from './typeorm-options';

const config = appConfig();

export default new DataSource({
  ...mysqlOptions(config.db.primary, 2),
  entities: [`${__dirname}/../../**/*.entity{.ts,.js}`],
  migrations: MIGRATION_GLOBS,
  migrationsTableName: 'migrations',
});
