/** A 202 this process answered, with the rebuild generation of the Redis state that sold it. */
export interface JournalEntry {
  reservationId: string;
  userId: string;
  epoch: number;
  at: number;
}

/**
 * The reservations this process answered 202 for, kept in memory for a while: if Redis loses
 * them before the consumer persisted them, nothing else knows they existed. After a rebuild of
 * the sale (epoch E), every entry sold under an older epoch is either in MySQL (the rebuild
 * persisted the whole stream first) or was lost with Redis's writes, and is then recorded as a
 * LOST reservation so that the buyer and the reconciliation see it.
 *
 * Bounded: at most `maxEntries` in all and none older than `maxAgeMs` (a reservation not
 * persisted after that long is a consumer outage, which the stream-lag metric shows). Lost with
 * the process — the limit stated in docs/flash-sale.md.
 */
export class ReservationJournal {
  private readonly sales = new Map<string, JournalEntry[]>();
  private readonly maxEpoch = new Map<string, number>();
  private size = 0;

  constructor(
    private readonly maxEntries = 200_000,
    private readonly maxAgeMs = 15 * 60_000,
  ) {}

  /** Records a 202; returns true when `epoch` is newer than any seen for the sale (a rebuild happened). */
  add(saleId: string, entry: JournalEntry): boolean {
    let list = this.sales.get(saleId);
    if (!list) this.sales.set(saleId, (list = []));
    list.push(entry);
    this.size++;
    if (this.size > this.maxEntries || entry.at - list[0].at > this.maxAgeMs) this.prune(entry.at);
    return this.seeEpoch(saleId, entry.epoch);
  }

  /** Notes an epoch seen for the sale; true when it is newer than the last one. */
  seeEpoch(saleId: string, epoch: number): boolean {
    const prev = this.maxEpoch.get(saleId);
    if (prev !== undefined && epoch <= prev) return false;
    this.maxEpoch.set(saleId, epoch);
    return prev !== undefined;
  }

  /** Removes and returns the sale's entries sold under an epoch older than `epoch`. */
  takeBefore(saleId: string, epoch: number): JournalEntry[] {
    const list = this.sales.get(saleId);
    if (!list) return [];
    const taken = list.filter((e) => e.epoch < epoch);
    const kept = list.filter((e) => e.epoch >= epoch);
    this.size -= taken.length;
    if (kept.length) this.sales.set(saleId, kept);
    else this.sales.delete(saleId);
    return taken;
  }

  /** Puts entries back (a sweep that failed will be retried). */
  restore(saleId: string, entries: JournalEntry[]): void {
    if (!entries.length) return;
    const list = this.sales.get(saleId) ?? [];
    this.sales.set(
      saleId,
      [...entries, ...list].sort((a, b) => a.at - b.at),
    );
    this.size += entries.length;
  }

  get length(): number {
    return this.size;
  }

  private prune(now: number): void {
    // Oldest first across sales: drop by age, then the oldest until under the cap.
    for (const [id, list] of this.sales) {
      let i = 0;
      while (i < list.length && now - list[i].at > this.maxAgeMs) i++;
      if (i) {
        list.splice(0, i);
        this.size -= i;
      }
      if (!list.length) this.sales.delete(id);
    }
    // Down to 90 % of the cap, so that the next additions do not prune again one by one.
    while (this.size > this.maxEntries * 0.9) {
      let oldest: JournalEntry[] | undefined;
      let oldestId = '';
      for (const [id, list] of this.sales)
        if (!oldest || list[0].at < oldest[0].at) {
          oldest = list;
          oldestId = id;
        }
      if (!oldest) break;
      const drop = Math.min(oldest.length, Math.ceil(this.size - this.maxEntries * 0.9));
      oldest.splice(0, drop);
      this.size -= drop;
      if (!oldest.length) this.sales.delete(oldestId);
    }
  }
}
