import { EventSubscriber } from 'typeorm';
import type { AfterQueryEvent, DataSourceOptions, EntitySubscriberInterface } from 'typeorm';
import { createConnection } from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import type { MysqlTarget } from '../config/app-config';

/**
 * A statement that got no answer within the query timeout (a server or network that black-holes
 * an established connection) leaves mysql2's connection stuck behind it: the connection is
 * destroyed here, so the pool replaces it and the next request does not queue behind a dead
 * socket. The failed statement answers PROTOCOL_SEQUENCE_TIMEOUT → 503 UNAVAILABLE.
 */
@EventSubscriber()
export class DestroyTimedOutConnections implements EntitySubscriberInterface {
  afterQuery(event: AfterQueryEvent<unknown>): void {
    if (event.success || (event.error as { code?: string } | undefined)?.code !== 'PROTOCOL_SEQUENCE_TIMEOUT')
      return;
    const conn = (event.queryRunner as unknown as { databaseConnection?: { destroy?: () => void } })
      .databaseConnection;
    conn?.destroy?.();
  }
}

/**
 * Connection options shared by the primary, the replicas, the migration CLI and the tests.
 * `queryTimeoutMs` (0 = none; migrations run without) bounds every statement.
 */
export function mysqlOptions(target: MysqlTarget, poolSize: number, queryTimeoutMs = 0): DataSourceOptions {
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
    ...(queryTimeoutMs > 0
      ? {
          maxQueryExecutionTime: queryTimeoutMs,
          enableQueryTimeout: true,
          subscribers: [DestroyTimedOutConnections],
        }
      : {}),
  };
}

/** Every module keeps its own migrations beside its code; TypeORM orders them by timestamp. */
export const MIGRATION_GLOBS = [`${__dirname}/../../**/migrations/*{.ts,.js}`];
/** Every entity of every module (the migration CLI diffs them against the schema). */
export const ENTITY_GLOBS = [`${__dirname}/../../**/*.entity{.ts,.js}`];

/**
 * Options of the TypeORM CLI's DataSource (`migration:generate` / `migration:revert`): every
 * entity and migration, and the driver type of the server actually behind `target`. The schema
 * diff must read information_schema the way the server writes it: MariaDB reports a nullable
 * column's default as the string 'NULL' and quotes literal defaults, which TypeORM only
 * understands with `type: 'mariadb'` (with 'mysql' it would "fix" every nullable column).
 */
export async function migrationCliOptions(target: MysqlTarget): Promise<DataSourceOptions> {
  const probe = await createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    connectTimeout: 5000,
  });
  let version: string;
  try {
    const [rows] = await probe.query<RowDataPacket[]>('SELECT VERSION() AS v');
    version = String(rows[0].v);
  } finally {
    await probe.end();
  }
  return {
    ...mysqlOptions(target, 2),
    type: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
    entities: ENTITY_GLOBS,
    migrations: MIGRATION_GLOBS,
    migrationsTableName: 'migrations',
  } as DataSourceOptions;
}
