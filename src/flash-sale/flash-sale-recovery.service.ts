import { Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Redlock, { ExecutionError, ResourceLockedError } from 'redlock';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { RedisService } from '../infra/redis/redis.service';
import { FlashSaleDefinitions } from './flash-sale-definitions';
import { FlashSalePersistence } from './flash-sale-persistence.service';
import { FlashSale } from './flash-sale.entity';
import { FlashSaleNotFoundError } from './flash-sale.errors';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSaleRepository, NewReservation } from './flash-sale.repository';
import { FlashSaleStore } from './flash-sale.store';
import type { RebuildReport } from './flash-sale.types';
import { ReservationJournal } from './reservation-journal';
import { SoldOutFlags } from './sold-out-flags';

export const SALE_REBUILT_CHANNEL = 'flash-sale:rebuilt';

/**
 * Recovery from a Redis that lost acknowledged writes (an AOF `everysec` crash, a failover to an
 * asynchronous replica, a restore of an older snapshot). See docs/decisions/0021.
 *
 * - **Noticing it**: the purchase script is missing from a restarted or failed-over Redis
 *   (NOSCRIPT); before it is loaded again every open sale is fenced — paused unless its state was
 *   stamped by this Redis process (FENCE_SCRIPT). Workers also fence open sales every few
 *   seconds, and the consumer reports evidence (a number or a unit handed out twice).
 * - **Rebuild** (one at a time per sale, under a Redis lock): pause the sale, persist every
 *   stream entry the database lacks (the consumer's own rules decide them), then compute every
 *   counter from MySQL — the truth for persisted reservations — and commit them in one script.
 *   Purchases answer 503 SALE_PAUSED meanwhile.
 * - **Lost 202s**: reservations Redis lost before any consumer persisted them exist only in the
 *   journal of the instance that answered them; after a rebuild each instance records its
 *   entries of older epochs that MySQL does not have as LOST (REJECTED, no order).
 */
@Injectable()
export class FlashSaleRecovery implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('FlashSaleRecovery');
  private readonly redlock: Redlock;
  readonly journal = new ReservationJournal();
  private readonly requested = new Map<string, Promise<unknown>>();
  private readonly sweeping = new Map<string, Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    private readonly db: DbRouter,
    private readonly repo: FlashSaleRepository,
    private readonly store: FlashSaleStore,
    private readonly definitions: FlashSaleDefinitions,
    private readonly persistence: FlashSalePersistence,
    private readonly redis: RedisService,
    private readonly flags: SoldOutFlags,
    private readonly metrics: FlashSaleMetrics,
  ) {
    // redlock 5 is typed against ioredis 4; the v5 client has the same command surface it uses.
    this.redlock = new Redlock([redis.client as never], { retryCount: 0 });
    this.redlock.on('error', () => undefined);
  }

  onModuleInit(): void {
    this.store.onRedisReset(async () => {
      await this.fenceOpenSales('redis-reset');
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.redis.subscribe(SALE_REBUILT_CHANNEL, (message) => {
      const { saleId, epoch } = JSON.parse(message) as { saleId: string; epoch: number };
      // Fire and forget: sweep() never rejects (a failed sweep logs, restores the journal, retries).
      if (this.journal.seeEpoch(saleId, epoch)) void this.sweep(saleId, epoch);
    });
  }

  /** The purchase path answered 202 (kept in the journal, see the class comment). */
  reserved(saleId: string, reservationId: string, userId: string, epoch: number): void {
    if (this.journal.add(saleId, { reservationId, userId, epoch, at: Date.now() }))
      void this.sweep(saleId, epoch); // off the purchase path; never rejects (see sweepNow)
  }

  /**
   * Sales whose Redis state matters: open ones, and those closed within a day (late returns,
   * a stream still draining).
   */
  async openSales(): Promise<FlashSale[]> {
    return this.repo.openSales(86_400_000);
  }

  /**
   * Pauses every open sale whose counters were not built under the Redis process now answering,
   * and has them rebuilt (in the background). Runs before the purchase script is loaded into a
   * Redis that did not have it, and periodically on workers.
   */
  async fenceOpenSales(reason: string, sales?: FlashSale[]): Promise<string[]> {
    const fenced: string[] = [];
    for (const sale of sales ?? (await this.openSales())) {
      const f = await this.store.fence(sale.id);
      if (f === 'ok') continue;
      if (f !== 'was-paused') fenced.push(sale.id);
      this.request(sale.id, f === 'missing' ? 'missing' : f === 'was-paused' ? 'paused' : reason);
    }
    if (fenced.length)
      this.logger.warn(
        `${reason}: ${fenced.length} sale(s) paused until rebuilt from MySQL: ${fenced.join(', ')}`,
      );
    return fenced;
  }

  /**
   * Asks for a rebuild without waiting: one in flight per sale in this process, and none while
   * another instance holds the sale's lock (it is rebuilding). Purchases of a paused sale call
   * this on every answer, so a failed rebuild is retried by the traffic itself (at most once a second).
   */
  request(saleId: string, reason: string): void {
    if (this.requested.has(saleId)) return;
    const p = this.rebuild(saleId, reason, { wait: false })
      .catch((err: Error) => this.logger.error(`sale ${saleId}: rebuild (${reason}) failed: ${err.message}`))
      .finally(() => setTimeout(() => this.requested.delete(saleId), 1000).unref());
    this.requested.set(saleId, p);
  }

  /**
   * Rebuilds one sale's Redis counters from MySQL plus the stream (see the class comment). With
   * `wait`, waits for the lock (another rebuild or a close in progress); without, returns
   * undefined when it is held. Public for the Redis Cluster failover (issue 24), which must
   * rebuild every sale of a shard whose master changed: see {@link rebuildAll}.
   */
  async rebuild(
    saleId: string,
    reason: string,
    opts: { wait?: boolean } = {},
  ): Promise<RebuildReport | undefined> {
    return this.withSaleLock(saleId, opts.wait ?? true, () => this.rebuildLocked(saleId, reason));
  }

  /** Rebuilds every open sale (a failover where writes may have been lost, e.g. a Cluster master). */
  async rebuildAll(reason: string): Promise<RebuildReport[]> {
    const out: RebuildReport[] = [];
    for (const sale of await this.openSales()) {
      const r = await this.rebuild(sale.id, reason);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * Runs `fn` holding the sale's lock (shared by rebuilds and the close, which must not release
   * units to inventory from counters being rebuilt). Returns undefined when `wait` is false and
   * the lock is taken. Redlock extends the lock while `fn` runs.
   */
  async withSaleLock<T>(saleId: string, wait: boolean, fn: () => Promise<T>): Promise<T | undefined> {
    const settings = wait ? { retryCount: 300, retryDelay: 200, retryJitter: 100 } : { retryCount: 0 };
    try {
      return await this.redlock.using([this.redis.key('lock', 'flash-sale', saleId)], 10_000, settings, fn);
    } catch (err) {
      if ((err instanceof ExecutionError || err instanceof ResourceLockedError) && !wait) return undefined;
      throw err;
    }
  }

  /** The rebuild itself; the caller holds the sale's lock. */
  async rebuildLocked(saleId: string, reason: string): Promise<RebuildReport> {
    const t0 = Date.now();
    const [sale, before] = await Promise.all([this.definitions.fresh(saleId), this.store.state(saleId)]);
    if (!sale) throw new FlashSaleNotFoundError();
    const token = randomUUID();
    const hadState = await this.store.pause(saleId, token);

    // 1. Every reservation still in the stream that the database does not have yet is persisted
    //    now, by the consumer's own rules (the stream is frozen: the sale is paused).
    let after = '-';
    let streamLength = 0;
    let adopted = 0;
    let rejected = 0;
    for (;;) {
      const page = await this.store.range(saleId, after, 1000);
      if (!page.length) break;
      after = page[page.length - 1].streamId;
      streamLength += page.length;
      const known = await this.repo.knownReservations(page.map((e) => e.reservationId).filter(Boolean));
      const missing = page.filter((e) => !known.has(e.reservationId));
      for (let i = 0; i < missing.length; i += this.config.flashSale.batchSize) {
        const o = await this.persistence.persist(sale, missing.slice(i, i + this.config.flashSale.batchSize));
        adopted += o.accepted;
        rejected += o.rejected;
      }
    }

    const tStream = Date.now();
    // 2. The counters, from the database (and what Redis still knows of returns in flight).
    const [redisReturned, redisSeq, rows, row] = await Promise.all([
      this.store.hashEntries('returned', saleId),
      this.store.hashEntries('seq', saleId),
      this.repo.allReservations(saleId),
      this.repo.saleState(saleId),
    ]);
    if (!row) throw new FlashSaleNotFoundError();
    const closed = row.status === 'CLOSED' || !!before?.closed;
    const held = new Map<string, number>();
    const seq = new Map<string, number>();
    const returned = new Map(redisReturned);
    let accepted = 0;
    for (const [user, n] of redisSeq) seq.set(user, Number(n));
    for (const r of rows) {
      seq.set(r.userId, Math.max(seq.get(r.userId) ?? 0, r.n));
      if (r.status === 'REJECTED') continue;
      accepted++;
      if (r.status === 'RETURNED') {
        if (r.orderId && !returned.has(r.orderId)) returned.set(r.orderId, closed ? 'inventory' : 'sale');
      } else if (!r.orderId || !returned.has(r.orderId)) {
        held.set(r.userId, (held.get(r.userId) ?? 0) + 1);
      }
    }
    let live = 0;
    for (const h of held.values()) live += h;
    const closedStock = !closed
      ? 0
      : row.status === 'CLOSED'
        ? (row.releasedQuantity ?? 0)
        : (before?.closedStock ?? 0);
    const stock = closed ? 0 : Math.max(0, sale.quantity - live);
    const returnedAfterClose = closed ? Math.max(0, sale.quantity - closedStock - live) : 0;
    const tDatabase = Date.now();
    // 3. Commit in one script (staged hashes renamed over the live ones, state rewritten, unpaused).
    const [epoch] = await Promise.all([
      this.db.transaction(() => this.repo.nextEpoch(saleId)),
      this.store.stage(saleId, held, seq, returned),
    ]);
    const code = await this.store.commitRebuild(
      saleId,
      token,
      {
        stock,
        quantity: sale.quantity,
        startsAt: sale.startsAt.getTime(),
        endsAt: sale.endsAt.getTime(),
        limit: sale.perUserLimit,
        closed,
        closedStock,
        returnedAfterClose,
        base: accepted - streamLength,
        epoch,
      },
      { held: held.size, seq: seq.size, returned: returned.size },
    );
    if (code !== 0)
      throw new Error(
        code === -1 ? 'paused by another rebuild meanwhile' : 'staged counters incomplete (Redis restarted?)',
      );
    await this.store.ensureGroup(saleId);

    const report: RebuildReport = {
      saleId,
      reason,
      epoch,
      recreated: !hadState,
      adopted,
      rejected,
      streamLength,
      live,
      stock,
      stockBefore: before ? before.stock : null,
      ms: Date.now() - t0,
      phases: { stream: tStream - t0, database: tDatabase - tStream, commit: Date.now() - tDatabase },
    };
    this.metrics.rebuilds.inc({ reason });
    this.logger.warn({ report }, `sale ${saleId}: Redis counters rebuilt from MySQL (${reason})`);
    if (stock > 0) await this.flags.broadcastRestock(saleId);
    else await this.flags.broadcastSoldOut(saleId);
    await this.redis.publish(SALE_REBUILT_CHANNEL, JSON.stringify({ saleId, epoch }));
    if (this.journal.seeEpoch(saleId, epoch)) await this.sweep(saleId, epoch);
    return report;
  }

  /**
   * Records as LOST the reservations this process answered 202 for under an epoch older than
   * `epoch` and that MySQL does not have: after the rebuild to `epoch` persisted the whole
   * stream, those can only have been lost with Redis's writes.
   */
  sweep(saleId: string, epoch: number): Promise<void> {
    const prev = this.sweeping.get(saleId) ?? Promise.resolve();
    const next = prev.then(() => this.sweepNow(saleId, epoch));
    this.sweeping.set(saleId, next);
    return next.finally(() => {
      if (this.sweeping.get(saleId) === next) this.sweeping.delete(saleId);
    });
  }

  private async sweepNow(saleId: string, epoch: number): Promise<void> {
    const entries = this.journal.takeBefore(saleId, epoch);
    if (!entries.length) return;
    try {
      const lost = await this.db.transaction(async () => {
        await this.repo.lockSale(saleId);
        const known = new Set<string>();
        for (let i = 0; i < entries.length; i += 1000)
          for (const id of await this.repo.knownReservations(
            entries.slice(i, i + 1000).map((e) => e.reservationId),
          ))
            known.add(id);
        const missing = entries.filter((e) => !known.has(e.reservationId));
        if (!missing.length) return missing;
        const max = await this.repo.maxNumbers(saleId, [...new Set(missing.map((e) => e.userId))]);
        await this.repo.insertReservations(
          missing.map((e): NewReservation => {
            const n = (max.get(e.userId) ?? 0) + 1;
            max.set(e.userId, n);
            return {
              reservationId: e.reservationId,
              saleId,
              userId: e.userId,
              n,
              orderId: null,
              status: 'REJECTED',
              rejectReason: 'LOST',
            };
          }),
        );
        // Their numbers must not be handed out again (Redis's sequences came from MySQL before).
        this.db.afterCommit(() => this.store.seqAtLeast(saleId, max));
        return missing;
      });
      if (lost.length) {
        this.metrics.rejected.inc({ reason: 'LOST' }, lost.length);
        this.logger.error(
          `sale ${saleId}: ${lost.length} reservation(s) answered 202 were lost by Redis before they were ` +
            `persisted; recorded as REJECTED (LOST): ${lost
              .slice(0, 10)
              .map((e) => e.reservationId)
              .join(', ')}`,
        );
      }
    } catch (err) {
      this.journal.restore(saleId, entries);
      this.logger.warn(
        `sale ${saleId}: recording lost reservations failed, retried later: ${(err as Error).message}`,
      );
      setTimeout(() => void this.sweep(saleId, epoch), 2000).unref(); // never rejects: this catch again
    }
  }
}
