import { Injectable, Logger } from '@nestjs/common';
import Redlock, { ExecutionError, ResourceLockedError } from 'redlock';
import { DbRouter } from '../infra/database/db-router.service';
import { RedisService } from '../infra/redis/redis.service';
import { InventoryService } from '../inventory';
import { FlashSaleDefinitions } from './flash-sale-definitions';
import { FlashSaleRecovery } from './flash-sale-recovery.service';
import { FlashSaleNotFoundError, ReconcileBusyError } from './flash-sale.errors';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSaleRepository } from './flash-sale.repository';
import { FlashSaleStore } from './flash-sale.store';
import type { ReconcileReport } from './flash-sale.types';
import { SoldOutFlags } from './sold-out-flags';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** At most this many rejected reservations are listed in a report. */
const REJECTED_LISTED = 10_000;

/**
 * What happens around a sale rather than in its burst: giving back units of unpaid orders,
 * closing it at its end (unsold units back to inventory), and reconciling Redis with MySQL.
 */
@Injectable()
export class FlashSaleSettlement {
  private readonly logger = new Logger('FlashSaleSettlement');
  private readonly redlock: Redlock;

  constructor(
    private readonly db: DbRouter,
    private readonly repo: FlashSaleRepository,
    private readonly store: FlashSaleStore,
    private readonly definitions: FlashSaleDefinitions,
    private readonly inventory: InventoryService,
    private readonly flags: SoldOutFlags,
    private readonly redis: RedisService,
    private readonly metrics: FlashSaleMetrics,
    private readonly recovery: FlashSaleRecovery,
  ) {
    // redlock 5 is typed against ioredis 4; the v5 client has the same command surface it uses.
    this.redlock = new Redlock([redis.client as never], {
      retryCount: 25,
      retryDelay: 200,
      retryJitter: 100,
    });
    this.redlock.on('error', () => undefined);
  }

  /**
   * An unpaid flash order expired or was cancelled: its unit goes back to the sale (Redis stock
   * + 1, the user's holding − 1, so the user may buy again) while the sale is open, or back to
   * inventory once the sale was closed. Safe to run twice: the script remembers each order, and
   * the reservation row flips CONFIRMED → RETURNED once (affected rows decide the release).
   */
  async returnUnit(evt: { orderId: string; flashSaleId?: string | null; userId: string }): Promise<void> {
    if (!evt.flashSaleId) return;
    const sale = await this.definitions.find(evt.flashSaleId);
    if (!sale) return;
    const r = await this.store.returnUnit(sale.id, evt.userId, evt.orderId);
    if (r.code === -1 || r.code === -2) {
      // Paused for a rebuild, or Redis lost the sale's keys (it is rebuilt from MySQL): the
      // event fails and is delivered again once the counters are back.
      if (r.code === -1) this.recovery.request(sale.id, 'missing');
      throw new Error(
        `sale ${sale.id}: ${r.code === -1 ? 'keys missing in Redis' : 'paused for a rebuild'}; unit of order ${evt.orderId} returned later`,
      );
    }
    // Every instance drops its sold-out flag (also on a re-run: a lost broadcast is repeated).
    if (r.where === 'sale') await this.flags.broadcastRestock(sale.id);
    await this.db.transaction(async () => {
      if ((await this.repo.markReturned(evt.orderId)) && r.where === 'inventory')
        await this.inventory.release([{ sku: sale.sku, quantity: 1 }], { orderId: sale.id });
    });
  }

  /**
   * The end-of-sale job: closes the sale in Redis (atomically: no purchase after this), releases
   * the unsold units to inventory once (the ACTIVE → CLOSED update decides), waits for the stream
   * to drain, then reconciles.
   */
  async close(saleId: string, drainTimeoutMs = 30_000): Promise<ReconcileReport> {
    const sale = await this.definitions.fresh(saleId);
    if (!sale) throw new FlashSaleNotFoundError();
    if (sale.status === 'ACTIVE') {
      const wait = sale.endsAt.getTime() - Date.now();
      if (wait > 0) await sleep(wait);
      // Under the sale's lock, and only from counters this Redis process built: a Redis that lost
      // writes would count sold units as unsold and release them to inventory (an oversell of the SKU).
      await this.recovery.withSaleLock(saleId, true, async () => {
        if ((await this.store.fence(saleId)) !== 'ok') await this.recovery.rebuildLocked(saleId, 'close');
        const closed = await this.store.close(saleId);
        if (closed.code < 0)
          throw new Error(`sale ${saleId}: cannot close (${closed.code === -1 ? 'keys missing' : 'paused'})`);
        const remaining = closed.remaining ?? 0;
        await this.db.transaction(async () => {
          if ((await this.repo.closeSale(saleId, remaining)) && remaining > 0)
            await this.inventory.release([{ sku: sale.sku, quantity: remaining }], { orderId: saleId });
        });
        this.logger.log(`sale ${saleId} closed; ${remaining} unsold units released to inventory`);
      });
    }
    const deadline = Date.now() + drainTimeoutMs;
    for (;;) {
      const s = await this.store.streamStats(saleId);
      if (s.pending + s.lag === 0 || Date.now() > deadline) break;
      await sleep(200);
    }
    return this.reconcile(saleId);
  }

  /** Compares Redis counters with the database under a Redis lock (one reconciliation at a time). */
  async reconcile(saleId: string): Promise<ReconcileReport> {
    const sale = await this.definitions.find(saleId);
    if (!sale) throw new FlashSaleNotFoundError();
    try {
      return await this.redlock.using([this.redis.key('lock', 'flash-sale-reconcile', saleId)], 30_000, () =>
        this.compare(saleId, sale.quantity),
      );
    } catch (err) {
      if (err instanceof ExecutionError || err instanceof ResourceLockedError) throw new ReconcileBusyError();
      throw err;
    }
  }

  private async compare(saleId: string, quantity: number): Promise<ReconcileReport> {
    const [state, stream, held, counts, rebuilds, rejected] = await Promise.all([
      this.store.state(saleId),
      this.store.streamStats(saleId),
      this.store.totalHeld(saleId),
      this.repo.reservationCounts(saleId),
      this.repo.epoch(saleId),
      this.repo.rejectedReservations(saleId, REJECTED_LISTED),
    ]);
    const database = { ...counts, rebuilds };
    const redis = {
      present: !!state,
      stock: state?.stock ?? 0,
      closed: state?.closed ?? false,
      closedStock: state?.closedStock ?? 0,
      returnedAfterClose: state?.returnedAfterClose ?? 0,
      reservations: stream.length,
      returned: stream.returned,
      held,
      pending: stream.pending,
      undelivered: stream.lag,
      paused: state?.paused ?? false,
      epoch: state?.epoch ?? 0,
      base: state?.base ?? 0,
    };
    const settled = stream.pending + stream.lag === 0 && !redis.paused;
    const problems: string[] = [];
    let drift = 0;
    const check = (name: string, actual: number, expected: number) => {
      if (actual === expected) return;
      drift += Math.abs(actual - expected);
      problems.push(`${name}: ${actual}, expected ${expected}`);
    };
    if (!state) {
      problems.push('sale keys missing in Redis (restarted empty?): paused until rebuilt from MySQL');
      drift += Math.max(0, quantity - database.confirmed);
    } else if (redis.paused) {
      problems.push('paused: the Redis counters are being rebuilt from MySQL (Redis lost writes)');
    } else {
      // Units ever taken as Redis knows them: the stream plus `base`, which the last rebuild set to
      // (reservations in MySQL − stream length) — the units whose entries Redis lost, less the
      // entries the database rejected. Without a rebuild base is 0.
      const taken = redis.reservations + redis.base;
      const live = taken - redis.returned;
      // Every unit of the sale is in exactly one place.
      check(
        'redis stock + closed + returned after close + live reservations',
        redis.stock + redis.closedStock + redis.returnedAfterClose + live,
        quantity,
      );
      check('redis units held by users', redis.held, live);
      if (settled) {
        check('database reservations', database.reservations, taken);
        check('database orders', database.orders, taken);
        check('database returned reservations', database.returned, redis.returned);
      }
    }
    this.metrics.drift.set({ sale: saleId }, drift);
    const report: ReconcileReport = {
      saleId,
      checkedAt: new Date().toISOString(),
      quantity,
      redis,
      database,
      rejected: rejected.map((r) => ({ ...r, at: r.at.toISOString() })),
      settled,
      drift,
      problems,
    };
    if (database.rejected)
      problems.push(
        `${database.rejected} reservation(s) answered 202 got no order because Redis lost acknowledged writes (see rejected)`,
      );
    if (drift) this.logger.error({ report }, `sale ${saleId}: Redis and database disagree by ${drift} units`);
    else if (database.rejected)
      this.logger.warn(
        `sale ${saleId}: reconciled, no drift; ${database.rejected} reservation(s) rejected after Redis lost writes`,
      );
    else this.logger.log(`sale ${saleId}: reconciled, no drift (settled=${settled})`);
    return report;
  }
}
