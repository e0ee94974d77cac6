import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AppConfig } from '../infra/config/app-config';
import { WorkerRegistry } from '../infra/queue/worker-registry.service';
import { RedisService } from '../infra/redis/redis.service';
import { FlashSaleDefinitions } from './flash-sale-definitions';
import { FlashSalePersistence } from './flash-sale-persistence.service';
import { FlashSaleRecovery } from './flash-sale-recovery.service';
import { FlashSale } from './flash-sale.entity';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { SALE_CREATED_CHANNEL, FlashSaleService } from './flash-sale.service';
import type { PersistOutcome } from './flash-sale.types';
import { FlashSaleStore, StreamEntry } from './flash-sale.store';

const BLOCK_MS = 1000;
const REFRESH_MS = 5000;

interface SaleLoop {
  saleId: string;
  conn: Redis;
  done: Promise<void>;
}

/**
 * The persistence worker (APP_ROLE worker/all): one loop per open sale reads the sale's stream
 * through the consumer group on its own connection (XREADGROUP BLOCK must not hold the shared
 * command connection), persists each batch in one transaction, XACKs after commit, and
 * periodically takes over entries that a dead consumer left pending (XAUTOCLAIM).
 */
@Injectable()
export class FlashSaleConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('FlashSaleConsumer');
  readonly consumerName = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly loops = new Map<string, SaleLoop>();
  private running = false;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly workers: WorkerRegistry,
    private readonly redis: RedisService,
    private readonly store: FlashSaleStore,
    private readonly definitions: FlashSaleDefinitions,
    private readonly persistence: FlashSalePersistence,
    private readonly sales: FlashSaleService,
    private readonly metrics: FlashSaleMetrics,
    private readonly recovery: FlashSaleRecovery,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.workers.enabled) return;
    this.running = true;
    this.metrics.lagSource = () => this.lags();
    await this.redis.subscribe(SALE_CREATED_CHANNEL, (saleId) => void this.track(saleId));
    await this.refresh();
    // Fire and forget: refresh() catches and logs its own failures; the next tick tries again.
    this.refreshTimer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.refreshTimer.unref();
    this.logger.log(`consuming flash-sale streams as ${this.consumerName}`);
  }

  /**
   * Starts a loop for every open sale and for recently closed sales whose stream still holds
   * unpersisted entries; stops loops of closed, drained sales; schedules the close job of sales
   * past their end (idempotent by job id); fences open sales, so that a Redis that lost writes is
   * noticed even when nobody buys (and when its script cache survived, e.g. a promoted replica).
   */
  private async refresh(): Promise<void> {
    if (!this.running) return;
    try {
      const candidates = await this.recovery.openSales();
      await this.recovery
        .fenceOpenSales('fence', candidates)
        .catch((err: Error) => this.logger.warn(`fencing open sales failed: ${err.message}`));
      const keep = new Set<string>();
      for (const sale of candidates) {
        if (sale.status === 'ACTIVE' || (await this.undrained(sale.id))) {
          this.definitions.remember(sale);
          keep.add(sale.id);
          this.track(sale.id);
        }
      }
      for (const id of this.loops.keys()) {
        if (keep.has(id)) continue;
        // Re-checked one by one: a sale created while the query ran is not stopped by mistake.
        if ((await this.definitions.fresh(id))?.status === 'CLOSED' && !(await this.undrained(id)))
          this.untrack(id);
      }
      const overdue = candidates.filter(
        (s) => s.status === 'ACTIVE' && s.endsAt.getTime() < Date.now() - 60_000,
      );
      for (const sale of overdue) await this.sales.scheduleClose(sale);
    } catch (err) {
      this.logger.warn(`refreshing open sales failed: ${(err as Error).message}`);
    }
  }

  private async undrained(saleId: string): Promise<boolean> {
    const s = await this.store.streamStats(saleId);
    return s.pending + s.lag > 0;
  }

  /** Consumes a sale's stream in this process (no-op if already consuming). */
  track(saleId: string): void {
    if (!this.running || this.loops.has(saleId)) return;
    const conn = RedisService.createClient(this.config.redis.url, {
      // XREADGROUP blocks up to BLOCK_MS: past that plus the command bound the connection is
      // silent (Redis stuck or cut off) and is replaced, so the loop never waits forever on it.
      ...RedisService.commandBounds(this.config.redis.commandTimeoutMs, BLOCK_MS),
      maxRetriesPerRequest: null,
      connectionName: `nest-commerce:fs-consumer`,
    });
    conn.on('error', () => undefined);
    const loop: SaleLoop = { saleId, conn, done: Promise.resolve() };
    this.loops.set(saleId, loop);
    loop.done = this.run(loop).finally(() => {
      conn.disconnect();
      this.loops.delete(saleId);
    });
  }

  /** Stops consuming a sale (closed and drained). */
  untrack(saleId: string): void {
    const loop = this.loops.get(saleId);
    if (loop) loop.conn.disconnect();
  }

  private async run(loop: SaleLoop): Promise<void> {
    const { saleId, conn } = loop;
    const batch = this.config.flashSale.batchSize;
    let nextClaimAt = 0;
    let failures = 0;
    // A batch whose transaction failed is retried as is (XREADGROUP '>' would not deliver it again).
    let carry: StreamEntry[] = [];
    while (this.running && this.loops.get(saleId) === loop && conn.status !== 'end') {
      try {
        const sale = await this.definitions.find(saleId);
        if (!sale) return;
        await this.store.ensureGroup(saleId, conn);
        if (Date.now() >= nextClaimAt) {
          await this.reclaim(sale);
          nextClaimAt = Date.now() + Math.max(250, this.config.flashSale.reclaimIdleMs / 2);
        }
        const entries = carry.length
          ? carry
          : await this.store.readGroup(conn, saleId, this.consumerName, batch, BLOCK_MS);
        carry = entries;
        if (entries.length) this.check(sale, await this.persistence.persistAndAck(sale, entries));
        carry = [];
        failures = 0;
      } catch (err) {
        if (!this.running || (conn.status as string) === 'end') return;
        failures++;
        this.logger.warn(`sale ${saleId}: consuming failed (${failures}): ${(err as Error).message}`);
        await sleep(Math.min(5000, 100 * 2 ** failures));
      }
    }
  }

  /** Entries pending longer than FLASH_SALE_RECLAIM_IDLE_MS in a (dead) consumer's list are ours now. */
  private async reclaim(sale: FlashSale): Promise<void> {
    let cursor = '0-0';
    do {
      const { next, entries } = await this.store.autoClaim(
        sale.id,
        this.consumerName,
        this.config.flashSale.reclaimIdleMs,
        this.config.flashSale.batchSize,
        cursor,
      );
      if (entries.length) {
        this.logger.warn(`sale ${sale.id}: reclaimed ${entries.length} entries of a dead consumer`);
        this.check(sale, await this.persistence.persistAndAck(sale, entries));
      }
      cursor = next;
    } while (cursor !== '0-0' && this.running);
  }

  /** A batch showed that Redis lost acknowledged writes: its counters are rebuilt from MySQL. */
  private check(sale: FlashSale, outcome: PersistOutcome): void {
    if (outcome.anomalies.length) this.recovery.request(sale.id, 'anomaly');
  }

  private async lags(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await Promise.all(
      [...this.loops.keys()].map(async (id) => {
        const s = await this.store.streamStats(id);
        out.set(id, s.pending + s.lag);
      }),
    );
    return out;
  }

  /**
   * Stops consuming at the start of shutdown, with the Bull workers (see WorkerRegistry), while
   * Redis and MySQL are still open: a batch in flight finishes and is acknowledged.
   */
  async onModuleDestroy(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    // A blocked XREADGROUP returns within BLOCK_MS; a batch in flight finishes and is acknowledged.
    await Promise.race([Promise.allSettled([...this.loops.values()].map((l) => l.done)), sleep(10_000)]);
    for (const l of this.loops.values()) l.conn.disconnect();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
