import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { DbRouter } from './db-router.service';
import { RecentWriters } from './recent-writers';
import { SemiSyncMonitor } from './semi-sync-monitor';
import { mysqlOptions } from './typeorm-options';

/**
 * The primary DataSource (TypeORM, entities registered by each module with forFeature) and
 * the {@link DbRouter} every module uses to reach it or a replica. Schema changes are
 * migrations only (`synchronize` is off).
 */
@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...mysqlOptions(config.db.primary, config.db.poolSize, config.db.queryTimeoutMs),
        // DbRouter.commitBatch sends a transaction's statements in one query (decision 0011).
        // Every statement in the codebase is parameterized; nothing concatenates input into SQL.
        multipleStatements: true,
        autoLoadEntities: true,
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [DbRouter, RecentWriters, SemiSyncMonitor],
  exports: [DbRouter, SemiSyncMonitor],
})
export class DatabaseModule {}
