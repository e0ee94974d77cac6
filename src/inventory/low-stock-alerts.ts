import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../infra/config/app-config';
import { MailService } from '../notifications';
import { InventoryRepository } from './inventory.repository';
import type { LowStockCrossing } from './inventory.types';

/** yyyymmddhh in UTC: one alert per SKU per hour. */
export const alertHour = (d = new Date()): string => d.toISOString().slice(0, 13).replace(/[-T]/g, '');

/**
 * Low-stock alerts, sent only once the transaction that crossed the threshold has committed.
 *
 * Why not send from the reservation: DbRouter.transaction may re-run its callback after a
 * deadlock, and the order transaction may still roll back (another line short of stock), so a
 * mail sent from inside would announce a crossing that never happened. InventoryService
 * registers {@link send} as an after-commit hook of the transaction or WriteBatch instead
 * (decision 0013: run once after the outermost commit, dropped on rollback). Across instances
 * the mail queue dedupes on `low-stock:<sku>:<yyyymmddhh>`, so a SKU alerts ops at most once
 * per hour.
 */
@Injectable()
export class LowStockAlerts {
  private readonly logger = new Logger('LowStockAlerts');

  constructor(
    private readonly repo: InventoryRepository,
    private readonly config: AppConfig,
    private readonly mail: MailService,
  ) {}

  /** Queues the alert mails of committed crossings; never rejects (failures are logged). */
  async send(views: LowStockCrossing[]): Promise<void> {
    const hour = alertHour();
    // The reservation path knows only the available count; the threshold is read here, after
    // the commit, so nothing extra runs while the stock row is locked.
    const missing = views.filter((v) => v.lowStockThreshold === undefined).map((v) => v.sku);
    const thresholds = await this.repo.thresholds(missing).catch((err: Error) => {
      this.logger.warn(`low-stock thresholds not read: ${err.message}`);
      return new Map<string, number>();
    });
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
