import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import { DbRouter } from '../database/db-router.service';
import { SemiSyncMonitor } from '../database/semi-sync-monitor';
import { GrpcServer } from '../grpc/grpc-server';
import { MetricsService } from './metrics.service';

/**
 * Infrastructure families read at scrape time from state the process already holds (no I/O):
 * the MySQL pools of the primary and each replica, and each replica's lag as the replica
 * monitor last measured it. Also connects the gRPC server's call timing to the registry:
 * the server is a transport strategy created outside DI, so it is found through Nest's
 * registry of RPC targets.
 */
@Injectable()
export class InfraMetrics implements OnModuleDestroy {
  private readonly rpcTargets: Subscription;

  constructor(metrics: MetricsService, db: DbRouter, semiSync: SemiSyncMonitor, modules: ModulesContainer) {
    metrics.gauge(
      'shop_db_pool_connections',
      'MySQL pool connections per pool (primary, replica-N) and state (in_use, idle)',
      ['pool', 'state'],
      function () {
        this.reset();
        for (const u of db.poolUsage()) {
          this.set({ pool: u.pool, state: 'in_use' }, u.open - u.idle);
          this.set({ pool: u.pool, state: 'idle' }, u.idle);
        }
      },
    );
    metrics.gauge(
      'shop_db_pool_max_connections',
      'Size limit of each MySQL pool (DB_POOL_SIZE)',
      ['pool'],
      function () {
        this.reset();
        for (const u of db.poolUsage()) this.set({ pool: u.pool }, u.max);
      },
    );
    metrics.gauge(
      'shop_db_pool_waiting_requests',
      'Queries waiting for a free connection, per MySQL pool',
      ['pool'],
      function () {
        this.reset();
        for (const u of db.poolUsage()) this.set({ pool: u.pool }, u.waiting);
      },
    );
    metrics.gauge(
      'shop_db_replica_lag_seconds',
      'Replication lag of each replica as last measured by the replica monitor (absent while unknown)',
      ['replica'],
      function () {
        this.reset();
        for (const r of db.replicaStatuses())
          if (r.lagSeconds !== null) this.set({ replica: r.name }, r.lagSeconds);
      },
    );
    metrics.gauge(
      'shop_db_replica_up',
      '1 while a replica serves reads (up), 0 while out of rotation (down or lagging)',
      ['replica'],
      function () {
        for (const r of db.replicaStatuses()) this.set({ replica: r.name }, r.state === 'up' ? 1 : 0);
      },
    );
    metrics.gauge(
      'shop_db_semi_sync_active',
      '1 while the primary waits for a replica to acknowledge each commit (semi-synchronous), ' +
        '0 while it has fallen back to asynchronous replication (absent when not configured)',
      [],
      function () {
        this.reset();
        const s = semiSync.status;
        if (s.state === 'active' || s.state === 'fallen-back') this.set(s.state === 'active' ? 1 : 0);
      },
    );
    metrics.gauge(
      'shop_db_semi_sync_unacknowledged_commits',
      "Commits the primary made without a replica's acknowledgement since it started (fallback periods)",
      [],
      function () {
        this.reset();
        const n = semiSync.status.unacknowledgedCommits;
        if (semiSync.status.state !== 'off' && n !== null) this.set(n);
      },
    );
    this.rpcTargets = modules.getRpcTargetRegistry<unknown>().subscribe((target) => {
      if (target instanceof GrpcServer) target.observeCalls(metrics);
    });
  }

  onModuleDestroy(): void {
    this.rpcTargets.unsubscribe();
  }
}
