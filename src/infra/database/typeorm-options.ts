import { EventSubscriber } from 'typeorm';
import type { AfterQueryEvent, DataSourceOptions, EntitySubscriberInterface } from 'typeorm';
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
