import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { MailService } from '../notifications';

/** yyyymmddhh in UTC: one alert per SKU per hour. */
export const alertHour = (d = new Date()): string => d.toISOString().slice(0, 13).replace(/[-T]/g, '');

/**
 * Low-stock alerts, sent only once the transaction that crossed the threshold has committed.
 *
 * Why not send from the reservation: DbRouter.transaction may re-run its callback after a
 * deadlock, and the order transaction may still roll back (another line short of stock), so a
 * mail sent from inside would announce a crossing that never happened. Instead the crossing is
 * remembered against the transaction's QueryRunner, and a TypeORM transaction subscriber sends
 * it on AfterTransactionCommit (and forgets it on rollback). Across instances the mail queue
 * dedupes on `low-stock:<sku>:<yyyymmddhh>`, so a SKU alerts ops at most once per hour.
 */
/** A SKU whose available stock just went below its threshold (threshold read later if unknown). */
export interface LowStockCrossing {
  sku: string;
  available: number;
  lowStockThreshold?: number;
}

@Injectable()
export class LowStockAlerts implements OnModuleInit {
  private readonly logger = new Logger('LowStockAlerts');
  private readonly pending = new WeakMap<QueryRunner, Map<string, LowStockCrossing>>();

  constructor(
    private readonly db: DbRouter,
    private readonly config: AppConfig,
    private readonly mail: MailService,
  ) {}

  onModuleInit(): void {
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => {
        const views = this.pending.get(queryRunner);
        if (!views) return;
        this.pending.delete(queryRunner);
        this.committed([...views.values()]);
      },
      afterTransactionRollback: ({ queryRunner }) => void this.pending.delete(queryRunner),
    };
    this.db.primary.subscribers.push(subscriber);
  }

  /** Called inside a transaction: the alert goes out after it commits (immediately if there is none). */
  afterCommit(em: EntityManager, crossed: LowStockCrossing[]): void {
    const qr = em.queryRunner;
    if (!qr?.isTransactionActive) {
      void this.send(crossed);
      return;
    }
    let views = this.pending.get(qr);
    if (!views) this.pending.set(qr, (views = new Map()));
    for (const v of crossed) views.set(v.sku, v);
  }

  /** For writes committed outside a TypeORM transaction (a WriteBatch's afterCommit). */
  committed(crossed: LowStockCrossing[]): void {
    void this.send(crossed);
  }

  private async send(views: LowStockCrossing[]): Promise<void> {
    const hour = alertHour();
    // The reservation path knows only the available count; the threshold is read here, after
    // the commit, so nothing extra runs while the stock row is locked.
    const missing = views.filter((v) => v.lowStockThreshold === undefined).map((v) => v.sku);
    const thresholds = new Map<string, number>();
    if (missing.length)
      try {
        const rows: { sku: string; t: number }[] = await this.db
          .primaryReader()
          .query('SELECT sku, low_stock_threshold AS t FROM inventory_items WHERE sku IN (?)', [missing]);
        for (const r of rows) thresholds.set(r.sku, Number(r.t));
      } catch (err) {
        this.logger.warn(`low-stock thresholds not read: ${(err as Error).message}`);
      }
    for (const v of views) {
      const threshold = v.lowStockThreshold ?? thresholds.get(v.sku);
      if (threshold === undefined) {
        this.logger.warn(
          `low-stock alert for ${v.sku} (available ${v.available}) not queued: threshold unknown`,
        );
        continue;
      }
      try {
        await this.mail.send({
          template: 'low-stock',
          to: this.config.mail.opsEmail,
          data: { sku: v.sku, available: v.available, threshold },
          dedupeKey: `low-stock:${v.sku}:${hour}`,
        });
      } catch (err) {
        // An alert must never fail the sale that caused it (the sale is committed already).
        this.logger.warn(`low-stock alert for ${v.sku} not queued: ${(err as Error).message}`);
      }
    }
  }
}
