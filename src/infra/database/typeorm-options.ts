import type { DataSourceOptions } from 'typeorm';
import type { MysqlTarget } from '../config/app-config';

/** Connection options shared by the primary, the replicas, the migration CLI and the tests. */
export function mysqlOptions(target: MysqlTarget, poolSize: number): DataSourceOptions {
  return {
    type: 'mysql',
    host: target.host,
    port: target.port,
    username: target.user,
    password: target.password,
    database: target.database,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    synchronize: false,
    migrationsRun: false,
    connectTimeout: 5000,
    extra: { connectionLimit: poolSize, enableKeepAlive: true, maxIdle: poolSize, idleTimeout: 60000 },
  };
}

/** Every module keeps its own migrations beside its code; TypeORM orders them by timestamp. */
export const MIGRATION_GLOBS = [`${__dirname}/../../**/migrations/*{.ts,.js}`];
