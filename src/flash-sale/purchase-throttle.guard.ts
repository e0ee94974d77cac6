import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { AUTH_USER_KEY, AuthUser } from '../common/auth';
import { AppConfig } from '../infra/config/app-config';
import { RateLimitedError } from '../infra/throttling';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { SoldOutFlags } from './sold-out-flags';

/**
 * Bots: a per-user budget of purchase attempts (FLASH_SALE_PURCHASE_RATE_LIMIT per
 * FLASH_SALE_PURCHASE_RATE_WINDOW_MS) in the shared Redis throttler storage, keyed by the
 * authenticated user rather than the IP (many real buyers share a NAT). Skipped while the sale
 * is sold out locally, so that answer stays free of network calls.
 */
@Injectable()
export class PurchaseThrottleGuard implements CanActivate {
  constructor(
    private readonly config: AppConfig,
    private readonly flags: SoldOutFlags,
    private readonly metrics: FlashSaleMetrics,
    // The Redis-backed storage of ThrottlingModule (global, from InfraModule).
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<Record<string, unknown>>();
    const saleId = (req.params as Record<string, string> | undefined)?.id ?? '';
    if (this.flags.isSoldOut(saleId)) return true;
    const user = req[AUTH_USER_KEY] as AuthUser | undefined;
    if (!user) return true;
    const { purchaseRateLimit: limit, purchaseRateWindowMs: ttl } = this.config.flashSale;
    const r = await this.storage.increment(`flash-sale-purchase:${user.id}`, ttl, limit, ttl, 'flash-sale');
    if (r.isBlocked) {
      this.metrics.purchases.inc({ outcome: 'rate_limited' });
      throw new RateLimitedError(
        Math.max(1, Math.ceil(r.timeToBlockExpire)),
        'Too many purchase attempts; slow down',
      );
    }
    return true;
  }
}
