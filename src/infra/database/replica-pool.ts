import { Logger } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import type { MysqlTarget } from '../config/app-config';
import { boundPoolAcquire } from './pool-acquire';

export type ReplicaState = 'up' | 'lagging' | 'down';

export interface ReplicaStatus {
  name: string;
  host: string;
  state: ReplicaState;
  lagSeconds: number | null;
  reason?: string;
  checkedAt: string | null;
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * One replica: its DataSource (created lazily, retried while the server is down) and the
 * health the monitor last saw. A replica only serves reads while `state === 'up'`.
 */
export class ReplicaNode {
  private ds?: DataSource;
  private connecting?: Promise<void>;
  status: ReplicaStatus;
  private warnedNoStatus = false;

  constructor(
    readonly name: string,
    private readonly target: MysqlTarget,
    private readonly options: () => DataSourceOptions,
    private readonly maxLagSeconds: number,
    private readonly logger: Logger,
    /** DB_ACQUIRE_TIMEOUT_MS (see pool-acquire.ts). */
    private readonly acquireTimeoutMs = 0,
  ) {
    this.status = {
      name,
      host: target.label,
      state: 'down',
      lagSeconds: null,
      reason: 'not checked yet',
      checkedAt: null,
    };
  }

  get dataSource(): DataSource | undefined {
    return this.ds?.isInitialized ? this.ds : undefined;
  }

  markDown(reason: string): void {
    if (this.status.state !== 'down')
      this.logger.warn(`replica ${this.name} (${this.target.label}) down: ${reason}`);
    this.status = { ...this.status, state: 'down', reason, checkedAt: new Date().toISOString() };
  }

  async check(): Promise<ReplicaStatus> {
    try {
      if (!this.ds?.isInitialized) await this.connect();
      const rows = await withTimeout(this.ds!.query('SHOW REPLICA STATUS'), CHECK_TIMEOUT_MS);
      this.apply(rows as Record<string, unknown>[]);
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      if (/denied|privilege/i.test(msg)) {
        // The account may read but not monitor: keep the replica in rotation, lag unknown.
        if (!this.warnedNoStatus)
          this.logger.warn(`replica ${this.name}: cannot read replication status (${msg}); lag unknown`);
        this.warnedNoStatus = true;
        this.setState('up', null);
      } else {
        this.markDown(msg);
      }
    }
    return this.status;
  }

  private apply(rows: Record<string, unknown>[]): void {
    const row = rows[0];
    if (!row) {
      // Not configured as a replica (e.g. a managed read endpoint): serve reads, lag unknown.
      this.setState('up', null);
      return;
    }
    const sqlRunning = String(row.Replica_SQL_Running ?? row.Slave_SQL_Running) === 'Yes';
    const ioRunning = String(row.Replica_IO_Running ?? row.Slave_IO_Running) === 'Yes';
    const lagRaw = row.Seconds_Behind_Source ?? row.Seconds_Behind_Master;
    const lag = lagRaw === null || lagRaw === undefined ? null : Number(lagRaw);
    if (!sqlRunning) return this.setState('lagging', lag, 'replication SQL thread stopped');
    if (lag === null) return this.setState('lagging', null, 'replication lag unknown');
    if (lag > this.maxLagSeconds)
      return this.setState('lagging', lag, `lag ${lag}s > ${this.maxLagSeconds}s`);
    this.setState('up', lag, ioRunning ? undefined : 'IO thread not running (primary unreachable?)');
  }

  private setState(state: ReplicaState, lagSeconds: number | null, reason?: string): void {
    if (state !== this.status.state) {
      const log = state === 'up' ? 'log' : 'warn';
      this.logger[log](`replica ${this.name} (${this.target.label}) ${state}${reason ? `: ${reason}` : ''}`);
    }
    this.status = {
      name: this.name,
      host: this.target.label,
      state,
      lagSeconds,
      reason,
      checkedAt: new Date().toISOString(),
    };
  }

  private connect(): Promise<void> {
    this.connecting ??= (async () => {
      const ds = new DataSource(this.options());
      try {
        await withTimeout(ds.initialize(), 6000, `replica ${this.name}`, 'mysql');
        boundPoolAcquire(ds, this.acquireTimeoutMs, this.name);
        this.ds = ds;
      } catch (err) {
        if (ds.isInitialized) await ds.destroy().catch(() => undefined);
        throw err;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    if (this.ds?.isInitialized) await this.ds.destroy();
  }
}

/** Connection pool usage of one DataSource (mysql2 pool), for /metrics. */
export interface PoolUsage {
  /** primary, replica-1, ... */
  pool: string;
  /** Connections open (in use + idle). */
  open: number;
  idle: number;
  /** Queries waiting for a free connection. */
  waiting: number;
  /** connectionLimit. */
  max: number;
}

interface Mysql2PoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
  config?: { connectionLimit?: number };
}

/**
 * Reads the counters of the mysql2 pool behind a TypeORM DataSource. mysql2 exposes no public
 * API for them, so this reads its queues' lengths (stable across mysql2 2.x-3.x); undefined
 * when the DataSource is not initialized or the driver is not mysql2's pool.
 */
export function poolUsage(pool: string, ds: DataSource | undefined): PoolUsage | undefined {
  if (!ds?.isInitialized) return undefined;
  const p = (ds.driver as unknown as { pool?: Mysql2PoolInternals }).pool;
  if (!p?._allConnections || !p._freeConnections) return undefined;
  return {
    pool,
    open: p._allConnections.length,
    idle: p._freeConnections.length,
    waiting: p._connectionQueue?.length ?? 0,
    max: p.config?.connectionLimit ?? 0,
  };
}
