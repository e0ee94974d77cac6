import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DbRouter } from './db-router.service';

/**
 * What the primary says of semi-synchronous replication (docs/operations.md):
 * - `off`: not configured on the primary (asynchronous replication: an acknowledged commit may be
 *   lost with the primary, up to the replication lag);
 * - `active`: each commit waits until a replica has it (AFTER_SYNC) before the client hears OK;
 * - `fallen-back`: configured, but no replica acknowledged within the timeout, so the primary
 *   commits without waiting until one catches up again — the loss bound is the lag once more.
 * `unacknowledgedCommits` is the primary's count of commits made without a replica's ack since it
 * started (Rpl_semi_sync_master_no_tx on MariaDB, Rpl_semi_sync_source_no_tx on MySQL 8.4).
 */
export interface SemiSyncStatus {
  state: 'off' | 'active' | 'fallen-back' | 'unknown';
  unacknowledgedCommits: number | null;
  replicasConnected: number | null;
}

const STATUS_VARIABLES = [
  // MariaDB (built in) and MySQL's semisync_source plugin name the same things differently.
  'Rpl_semi_sync_master_status',
  'Rpl_semi_sync_source_status',
  'Rpl_semi_sync_master_no_tx',
  'Rpl_semi_sync_source_no_tx',
  'Rpl_semi_sync_master_clients',
  'Rpl_semi_sync_source_clients',
];

/** Turns `SHOW GLOBAL STATUS` rows of either engine into a {@link SemiSyncStatus}. */
export function parseSemiSyncStatus(
  rows: { Variable_name: string; Value: string }[],
  enabled: boolean,
): SemiSyncStatus {
  const v = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const pick = (suffix: string) =>
    v.get(`rpl_semi_sync_master_${suffix}`) ?? v.get(`rpl_semi_sync_source_${suffix}`);
  const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));
  const status = pick('status');
  return {
    state:
      !enabled || status === undefined ? 'off' : status.toUpperCase() === 'ON' ? 'active' : 'fallen-back',
    unacknowledgedCommits: num(pick('no_tx')),
    replicasConnected: num(pick('clients')),
  };
}

/**
 * Watches the primary's semi-synchronous replication on the replica monitor's interval, so a
 * fallback to asynchronous replication (the loss bound widening from zero to the lag) is a
 * metric (`shop_db_semi_sync_active`) and a log line, not a silence.
 */
@Injectable()
export class SemiSyncMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SemiSync');
  private timer?: NodeJS.Timeout;
  private current: SemiSyncStatus = {
    state: 'unknown',
    unacknowledgedCommits: null,
    replicasConnected: null,
  };
  private checking?: Promise<void>;

  constructor(
    private readonly db: DbRouter,
    private readonly config: AppConfig,
  ) {}

  get status(): SemiSyncStatus {
    return this.current;
  }

  async onModuleInit(): Promise<void> {
    await this.check();
    if (this.current.state === 'off')
      this.logger.log(
        'semi-synchronous replication is off on the primary: an acknowledged write may be lost with it (docs/operations.md)',
      );
    // Fire and forget: look() swallows a failed read (the primary's health is readiness's business).
    this.timer = setInterval(() => void this.check(), this.config.db.replicaCheckIntervalMs);
    this.timer.unref();
  }

  /** One look at the primary (concurrent callers share it); a failed look leaves the last state. */
  check(): Promise<void> {
    this.checking ??= this.look().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async look(): Promise<void> {
    let next: SemiSyncStatus;
    try {
      const em = this.db.primaryReader();
      const enabledRows = (await em.query(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('rpl_semi_sync_master_enabled', 'rpl_semi_sync_source_enabled')",
      )) as { Variable_name: string; Value: string }[];
      const enabled = enabledRows.some((r) => r.Value.toUpperCase() === 'ON');
      const rows = (await em.query(
        `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_VARIABLES.map(() => '?').join(', ')})`,
        STATUS_VARIABLES,
      )) as { Variable_name: string; Value: string }[];
      next = parseSemiSyncStatus(rows, enabled);
    } catch {
      return; // the primary's own health is the readiness check's business
    }
    const before = this.current.state;
    this.current = next;
    if (before === next.state) return;
    if (next.state === 'fallen-back')
      this.logger.warn(
        'semi-synchronous replication fell back to asynchronous: no replica acknowledged within the ' +
          'timeout, so commits no longer wait for one and an acknowledged write may be lost with the ' +
          `primary (replicas connected: ${next.replicasConnected ?? '?'})`,
      );
    else if (next.state === 'active' && before === 'fallen-back')
      this.logger.log('semi-synchronous replication is active again: commits wait for a replica');
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
