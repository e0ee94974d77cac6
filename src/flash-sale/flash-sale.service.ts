import { Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bull';
import type { Queue } from 'bull';
import { CatalogService } from '../catalog';
import { ValidationFailedError, NotFoundError } from '../common/errors/domain-error';
import { newId } from '../common/ids';
import { isUuid } from '../common/uuid';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { QUEUES } from '../infra/queue/queues';
import { RedisService } from '../infra/redis/redis.service';
import { RateLimitedError } from '../infra/throttling';
import { InventoryService } from '../inventory';
import { CreateFlashSaleDto, FlashSaleDto, PurchaseResultDto } from './flash-sale.dto';
import { FlashSaleDefinitions, SALE_CREATED_CHANNEL } from './flash-sale-definitions';
import { FlashSaleRecovery } from './flash-sale-recovery.service';
import { RejectReason } from './flash-sale-reservation.entity';
import { FlashSale } from './flash-sale.entity';
import {
  AlreadyPurchasedError,
  FlashSaleNotFoundError,
  SaleNotActiveError,
  SalePausedError,
  SoldOutError,
} from './flash-sale.errors';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSaleRepository } from './flash-sale.repository';
import { PURCHASE } from './flash-sale.scripts';
import { FlashSaleStore } from './flash-sale.store';
import { SoldOutFlags } from './sold-out-flags';

export { SALE_CREATED_CHANNEL };
export const CLOSE_JOB = 'close';

/** Creating sales, the purchase path and the caller's result. */
@Injectable()
export class FlashSaleService {
  private readonly logger = new Logger('FlashSale');

  constructor(
    private readonly db: DbRouter,
    private readonly repo: FlashSaleRepository,
    private readonly store: FlashSaleStore,
    private readonly flags: SoldOutFlags,
    private readonly definitions: FlashSaleDefinitions,
    private readonly catalog: CatalogService,
    private readonly inventory: InventoryService,
    private readonly redis: RedisService,
    private readonly metrics: FlashSaleMetrics,
    private readonly config: AppConfig,
    private readonly recovery: FlashSaleRecovery,
    @InjectQueue(QUEUES.flashSale) private readonly queue: Queue,
  ) {}

  /**
   * Carves `quantity` units out of the SKU's inventory (reserved under the sale's id) and
   * initialises the sale's Redis state, all inside one database transaction: if the reservation
   * fails (409 INSUFFICIENT_STOCK) nothing is created; if Redis fails the transaction rolls back.
   */
  async create(dto: CreateFlashSaleDto): Promise<{ id: string }> {
    const startsAt = new Date(dto.startsAt);
    const endsAt = new Date(dto.endsAt);
    if (!(endsAt.getTime() > startsAt.getTime()))
      throw new ValidationFailedError('endsAt: must be after startsAt', [
        { field: 'endsAt', errors: ['endsAt must be after startsAt'] },
      ]);
    if (endsAt.getTime() <= Date.now())
      throw new ValidationFailedError('endsAt: must be in the future', [
        { field: 'endsAt', errors: ['endsAt must be in the future'] },
      ]);
    const [variant] = await this.catalog.findVariantsBySkus([dto.sku]);
    if (!variant || !variant.active) throw new NotFoundError(`SKU ${dto.sku}`, 'SKU_NOT_FOUND');

    const sale = Object.assign(new FlashSale(), {
      id: newId(),
      sku: variant.sku,
      productId: variant.productId ?? null,
      productName: variant.productName,
      price: dto.price,
      currency: variant.currency,
      quantity: dto.quantity,
      perUserLimit: dto.perUserLimit,
      startsAt,
      endsAt,
      status: 'ACTIVE' as const,
      releasedQuantity: null,
      closedAt: null,
    });
    try {
      await this.db.transaction(async () => {
        await this.repo.insertSale(sale);
        await this.inventory.reserve([{ sku: sale.sku, quantity: sale.quantity }], { orderId: sale.id });
        await this.store.init(sale.id, sale);
      });
    } catch (err) {
      await this.store.drop(sale.id).catch(() => undefined);
      throw err;
    }
    this.definitions.remember(sale);
    // After the commit, best effort (bounded by REDIS_COMMAND_TIMEOUT_MS, decision 0014): the sale
    // exists, so a silent Redis must not turn its 201 into a 503. A close job not scheduled here is
    // scheduled by the consumers' refresh once the sale is overdue.
    await this.scheduleClose(sale).catch((err: Error) =>
      this.logger.warn(`sale ${sale.id}: close not scheduled yet (${err.message}); the refresh will`),
    );
    await this.redis.publish(SALE_CREATED_CHANNEL, sale.id);
    return { id: sale.id };
  }

  /** The end-of-sale job (close, release unsold units, reconcile); jobId dedupes repeats. */
  async scheduleClose(sale: Pick<FlashSale, 'id' | 'endsAt'>): Promise<void> {
    await this.queue.add(
      CLOSE_JOB,
      { saleId: sale.id },
      { jobId: `close:${sale.id}`, delay: Math.max(0, sale.endsAt.getTime() - Date.now()) },
    );
  }

  async get(id: string): Promise<FlashSaleDto> {
    const sale = isUuid(id) ? await this.definitions.find(id) : undefined;
    if (!sale) throw new FlashSaleNotFoundError();
    const state = await this.store.state(id);
    const now = Date.now();
    const status: FlashSaleDto['status'] =
      !state || state.paused
        ? 'PAUSED'
        : state.closed || now >= sale.endsAt.getTime()
          ? 'ENDED'
          : now < sale.startsAt.getTime()
            ? 'SCHEDULED'
            : state.stock <= 0
              ? 'SOLD_OUT'
              : 'ACTIVE';
    return {
      id: sale.id,
      sku: sale.sku,
      productId: sale.productId,
      productName: sale.productName,
      price: sale.price,
      currency: sale.currency,
      quantity: sale.quantity,
      perUserLimit: sale.perUserLimit,
      startsAt: sale.startsAt.toISOString(),
      endsAt: sale.endsAt.toISOString(),
      remaining: state && !state.paused ? state.stock : null,
      status,
    };
  }

  /** True while this process knows the sale is sold out (no network call). */
  isSoldOutLocally(saleId: string): boolean {
    return this.flags.isSoldOut(saleId);
  }

  /**
   * The hot path: the in-process flag, then one Lua script (one Redis round trip) that counts the
   * caller's attempts (bots: 429 past FLASH_SALE_PURCHASE_RATE_LIMIT per window), takes a unit and
   * appends the reservation to the sale's stream. The database is touched only when the
   * sale's keys are missing (unknown sale → 404, known sale → paused).
   */
  /**
   * True when this instance already knows the sale is sold out (the in-process flag): the
   * purchase answer is then SOLD_OUT with no network call. Counted like purchase()'s own check.
   */
  soldOutLocally(saleId: string): boolean {
    if (!this.flags.isSoldOut(saleId)) return false;
    this.metrics.purchases.inc({ outcome: 'sold_out_local' });
    return true;
  }

  async purchase(saleId: string, userId: string): Promise<{ reservationId: string }> {
    if (this.flags.isSoldOut(saleId)) {
      this.metrics.purchases.inc({ outcome: 'sold_out_local' });
      throw new SoldOutError();
    }
    // A malformed id, or one looked up recently that names no sale: answered from memory.
    if (!isUuid(saleId) || this.definitions.isKnownUnknown(saleId)) {
      this.metrics.purchases.inc({ outcome: 'not_found' });
      throw new FlashSaleNotFoundError();
    }
    const reservationId = newId();
    const { purchaseRateLimit: limit, purchaseRateWindowMs: windowMs } = this.config.flashSale;
    const res = await this.store.purchase(saleId, userId, reservationId, { limit, windowMs });
    switch (res.code) {
      case PURCHASE.RESERVED:
        this.metrics.purchases.inc({ outcome: 'reserved' });
        this.recovery.reserved(saleId, reservationId, userId, res.epoch ?? 0);
        if (res.stockLeft === 0) await this.flags.broadcastSoldOut(saleId);
        return { reservationId };
      case PURCHASE.PAUSED:
        // Counters being rebuilt after Redis lost writes (or a rebuild that died: ask again).
        this.metrics.purchases.inc({ outcome: 'paused' });
        this.recovery.request(saleId, 'paused');
        throw new SalePausedError();
      case PURCHASE.SOLD_OUT:
        this.metrics.purchases.inc({ outcome: 'sold_out' });
        this.flags.raise(saleId);
        throw new SoldOutError();
      case PURCHASE.LIMIT_REACHED:
        this.metrics.purchases.inc({ outcome: 'already_purchased' });
        throw new AlreadyPurchasedError();
      case PURCHASE.RATE_LIMITED:
        this.metrics.purchases.inc({ outcome: 'rate_limited' });
        throw new RateLimitedError(
          Math.max(1, Math.ceil((res.retryAfterMs ?? 0) / 1000)),
          'Too many purchase attempts; slow down',
        );
      case PURCHASE.NOT_ACTIVE:
        this.metrics.purchases.inc({ outcome: 'not_active' });
        throw new SaleNotActiveError();
      default: {
        const sale = await this.definitions.find(saleId);
        this.metrics.purchases.inc({ outcome: sale ? 'paused' : 'not_found' });
        // Redis restarted empty: the sale is rebuilt from MySQL before it sells again.
        if (sale) this.recovery.request(saleId, 'missing');
        throw sale ? new SalePausedError() : new FlashSaleNotFoundError();
      }
    }
  }

  /**
   * The caller's result, for their latest reservation: `confirmed` (with the order) once the
   * consumer persisted it, `rejected` (with the reason) when the database refused it because
   * Redis had lost acknowledged writes, `reserved` while it is still in the stream, `none` if
   * they never got a unit.
   */
  async purchaseResult(saleId: string, userId: string): Promise<PurchaseResultDto> {
    const sale = isUuid(saleId) ? await this.definitions.find(saleId) : undefined;
    if (!sale) throw new FlashSaleNotFoundError();
    const [counts, row] = await Promise.all([
      this.store.userCounts(saleId, userId).catch(() => undefined),
      this.repo.latestReservation(saleId, userId),
    ]);
    const seq = counts?.seq ?? 0;
    if (row && row.n >= seq) {
      if (row.status === 'REJECTED')
        return {
          status: 'rejected',
          reservationId: row.reservationId,
          reason: 'REDIS_LOST_STATE',
          message: REJECTED_MESSAGES[row.rejectReason ?? 'LOST'],
        };
      return { status: 'confirmed', reservationId: row.reservationId, orderId: row.orderId ?? undefined };
    }
    if (seq > 0) return { status: 'reserved' };
    return { status: 'none' };
  }
}

const REJECTED_MESSAGES: Record<RejectReason, string> = {
  SOLD_OUT:
    'Redis lost acknowledged writes and sold a unit that was already sold; no order was created and nothing is owed',
  LIMIT_REACHED:
    'Redis lost acknowledged writes and sold you a unit beyond the per-user limit; no order was created and nothing is owed',
  LOST: 'Redis lost this reservation before it was recorded; no order was created and nothing is owed',
};
