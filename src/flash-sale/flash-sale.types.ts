import type { RejectReason } from './flash-sale-reservation.entity';

/** What one batch became. */
export interface PersistOutcome {
  /** Entries handled now (accepted + rejected); entries persisted before are not counted. */
  accepted: number;
  rejected: number;
  /** Evidence that Redis lost acknowledged writes (see planAdmissions); empty normally. */
  anomalies: string[];
}

/** What one rebuild found and wrote (logged, returned to callers such as the Cluster failover). */
export interface RebuildReport {
  saleId: string;
  reason: string;
  epoch: number;
  /** The sale had no Redis state at all (Redis restarted empty). */
  recreated: boolean;
  /** Stream entries the database did not have yet, persisted by the rebuild (accepted/rejected). */
  adopted: number;
  rejected: number;
  streamLength: number;
  /** Units held by buyers (CONFIRMED reservations whose unit Redis has not given back). */
  live: number;
  stock: number;
  /** Stock as Redis had it before (null without state): the difference is what the loss resold. */
  stockBefore: number | null;
  ms: number;
  /** Milliseconds spent persisting the stream, reading MySQL, and committing to Redis. */
  phases: { stream: number; database: number; commit: number };
}

export interface ReconcileReport {
  saleId: string;
  checkedAt: string;
  quantity: number;
  redis: {
    present: boolean;
    stock: number;
    closed: boolean;
    closedStock: number;
    returnedAfterClose: number;
    /** Stream entries = units ever taken. */
    reservations: number;
    /** Units given back by expired/cancelled orders. */
    returned: number;
    /** Σ units held per user. */
    held: number;
    pending: number;
    undelivered: number;
    /** A rebuild from MySQL is in progress (purchases answer SALE_PAUSED). */
    paused: boolean;
    /** Rebuilds so far (the generation stamped in Redis). */
    epoch: number;
    /** Units taken before the last rebuild that the stream no longer holds. */
    base: number;
  };
  database: {
    /** Rows for reservations that became orders (confirmed + returned). */
    reservations: number;
    confirmed: number;
    returned: number;
    orders: number;
    /** Reservations answered 202 that got no order because Redis had lost writes. */
    rejected: number;
    /** Rebuilds of the sale's Redis counters recorded in MySQL. */
    rebuilds: number;
  };
  /**
   * Every reservation that was answered 202 but got no order, with the reason (all mean that
   * Redis lost acknowledged writes): SOLD_OUT — its unit had already been sold; LIMIT_REACHED —
   * its buyer already held the per-user limit; LOST — Redis lost it before it was persisted.
   * Together with the orders this is every 202 the database knows of.
   */
  rejected: { reservationId: string; userId: string; reason: RejectReason; at: string }[];
  /** True when every reservation was delivered and acknowledged (the database comparison is exact). */
  settled: boolean;
  /** Units by which the counters disagree (0 = consistent). */
  drift: number;
  problems: string[];
}
