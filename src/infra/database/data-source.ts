/**
 * DataSource for the TypeORM CLI (`npm run migration:generate -- src/<module>/migrations/<Name>`,
 * `migration:revert`). Entities are discovered by file name so `migration:generate` can diff them
 * against DB_PRIMARY_URL; the driver type follows the server (MySQL or MariaDB), which is why this
 * exports a promise (the CLI awaits it).
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { appConfig } from '../config/app-config';
import { migrationCliOptions } from './typeorm-options';

export default migrationCliOptions(appConfig().db.primary).then((options) => new DataSource(options));
