import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../database/db-router.service';
import {
  PRIMARY_POSITION_SQL,
  REPLICA_POSITION_SQL,
  SqlFlavor,
  covers,
  detectFlavor,
  isPosition,
} from '../database/replication-position';
import { MetricsService } from '../observability/metrics.service';

/** How often a replica that was behind is asked for its position again (per replica and instance). */
const RECHECK_MS = 25;

/**
 * Reads that must not be older than a known write: "fenced" by the primary's replication
 * position (GTID) right after that write. A read goes to a replica only once that replica has
 * applied the position — asked on the replica itself, so a replica whose replication is paused
 * or whose IO thread stalled while it still reports lag 0 is caught too, whatever the replica
 * monitor last saw — else to the primary.
 *
 * What a replica has applied only grows, so once it covered a position that answer is kept: in
 * steady state a fenced read costs nothing extra. While a replica is behind it is asked again at
 * most every RECHECK_MS (one `SELECT @@…`), and the reads go to the primary meanwhile.
 *
 * With no GTIDs (MySQL with gtid_mode=OFF, a primary without a binlog) positions read as empty
 * and `enabled` is false: TwoLevelCache then falls back to reading written keys from the
 * primary for a time window (decision 0015).
 */
@Injectable()
export class FencedReads implements OnModuleInit {
  private readonly logger = new Logger('FencedReads');
  flavor: SqlFlavor = 'mariadb';
  /** Whether the primary reports GTID positions (decided at boot). */
  enabled = false;
  private readonly seen = new WeakMap<EntityManager, { pos: string; at: number }>();
  private readonly fromReplica;
  private readonly fromPrimary;

  constructor(
    private readonly db: DbRouter,
    metrics: MetricsService,
  ) {
    const reads = metrics.counter(
      'shop_cache_fenced_reads_total',
      'Catalog reads checked against the last write position: served by a replica that had applied it, or by the primary',
      ['source'],
    );
    this.fromReplica = reads.labels('replica');
    this.fromPrimary = reads.labels('primary');
  }

  async onModuleInit(): Promise<void> {
    try {
      const [row] = (await this.db.primaryReader().query('SELECT VERSION() AS v')) as { v: string }[];
      this.flavor = detectFlavor(String(row?.v ?? ''));
      this.enabled = (await this.primaryPosition()) !== '';
      if (!this.enabled)
        this.logger.warn(
          'the primary reports no GTID position (MySQL: gtid_mode=ON needed): cache fills fall back to a ' +
            'DB_REPLICA_MAX_LAG_SECONDS window after writes, and a replica that stalls unseen can serve old data',
        );
    } catch (err) {
      this.logger.warn(`replication positions unavailable: ${(err as Error).message}`);
    }
  }

  /** The primary's position now ('' when GTIDs are off or unreadable). Call it after a commit. */
  async primaryPosition(): Promise<string> {
    const [row] = (await this.db.primaryReader().query(PRIMARY_POSITION_SQL[this.flavor])) as {
      pos?: unknown;
    }[];
    const pos = String(row?.pos ?? '').trim();
    return isPosition(this.flavor, pos) ? pos : '';
  }

  /** Runs `fn` on a replica that has applied `pos`, else on the primary (no position: a plain routed read). */
  read<T>(pos: string, fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.db.read(async (em) => {
      const primary = this.db.primaryReader();
      if (!pos || em === primary) return fn(em);
      if (await this.applied(em, pos)) {
        this.fromReplica.inc();
        return fn(em);
      }
      this.fromPrimary.inc();
      return fn(primary);
    });
  }

  /** Runs `fn` on the primary (written keys without GTIDs, see TwoLevelCache). */
  primary<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return fn(this.db.primaryReader());
  }

  private async applied(em: EntityManager, pos: string): Promise<boolean> {
    const seen = this.seen.get(em);
    if (seen && covers(this.flavor, seen.pos, pos)) return true;
    if (seen && Date.now() - seen.at < RECHECK_MS) return false;
    const [row] = (await em.query(REPLICA_POSITION_SQL[this.flavor])) as { pos?: unknown }[];
    const now = String(row?.pos ?? '').trim();
    this.seen.set(em, { pos: now, at: Date.now() });
    return covers(this.flavor, now, pos);
  }
}
