import type { RejectReason } from './flash-sale-reservation.entity';
import type { StreamEntry } from './flash-sale.store';

/** A reservation row already in MySQL for one of the batch's users. */
export interface PersistedRow {
  userId: string;
  n: number;
  status: 'CONFIRMED' | 'RETURNED' | 'REJECTED';
  rejectReason: RejectReason | null;
  /** Redis already gave this order's unit back (its `returned` hash), even if MySQL still says CONFIRMED. */
  returnedInRedis: boolean;
}

export interface Admission {
  entry: StreamEntry;
  /** The number the row gets: the entry's own, or the user's next free one if Redis reused it. */
  n: number;
  accepted: boolean;
  reason?: Exclude<RejectReason, 'LOST'>;
}

export interface AdmissionPlan {
  admissions: Admission[];
  /** What proves that Redis lost acknowledged writes (empty when it is consistent). */
  anomalies: string[];
}

/**
 * Decides, against the database's truth, what each new stream entry of a batch becomes. In a
 * consistent Redis every entry is accepted with its own number: the Lua script never sells more
 * than the stock or beyond the per-user limit, and never reuses a user's number. After Redis lost
 * acknowledged writes it may do all three, so here:
 * - a number (sale, user, n) the database already holds for another reservation is replaced by
 *   the user's next free number (not an anomaly when the holder is a LOST row, which the
 *   journal sweep recorded with a number Redis never handed out);
 * - the entry becomes an order only if the sale still has a unit (units taken − units returned
 *   < quantity) and the user is under the limit (CONFIRMED rows whose unit Redis has not given
 *   back); otherwise it is REJECTED with the reason.
 * Pure (the caller holds the sale row's lock while it reads the inputs and writes the result).
 */
export function planAdmissions(input: {
  quantity: number;
  perUserLimit: number;
  /** Reservations that became orders, ever (flash_sales.units_taken). */
  unitsTaken: number;
  /** Units given back to the sale or inventory (Redis's `returned` hash size). */
  unitsReturned: number;
  existing: PersistedRow[];
  entries: StreamEntry[];
}): AdmissionPlan {
  const users = new Map<
    string,
    { numbers: Map<number, PersistedRow | 'batch'>; max: number; live: number }
  >();
  const user = (id: string) => {
    let u = users.get(id);
    if (!u) users.set(id, (u = { numbers: new Map(), max: 0, live: 0 }));
    return u;
  };
  for (const row of input.existing) {
    const u = user(row.userId);
    u.numbers.set(row.n, row);
    u.max = Math.max(u.max, row.n);
    if (row.status === 'CONFIRMED' && !row.returnedInRedis) u.live++;
  }
  let live = input.unitsTaken - input.unitsReturned;
  const anomalies: string[] = [];
  const admissions = input.entries.map((entry): Admission => {
    const u = user(entry.userId);
    let n = entry.n;
    const holder = u.numbers.get(n);
    if (holder !== undefined || !(n >= 1)) {
      if (holder === undefined || holder === 'batch' || holder.rejectReason !== 'LOST')
        anomalies.push(`number ${entry.n} of user ${entry.userId} handed out twice`);
      n = u.max + 1;
    }
    u.numbers.set(n, 'batch');
    u.max = Math.max(u.max, n);
    if (live >= input.quantity) {
      anomalies.push(`no unit left for reservation ${entry.reservationId}`);
      return { entry, n, accepted: false, reason: 'SOLD_OUT' };
    }
    if (u.live >= input.perUserLimit) {
      anomalies.push(`user ${entry.userId} already holds ${u.live} of ${input.perUserLimit}`);
      return { entry, n, accepted: false, reason: 'LIMIT_REACHED' };
    }
    live++;
    u.live++;
    return { entry, n, accepted: true };
  });
  return { admissions, anomalies };
}
