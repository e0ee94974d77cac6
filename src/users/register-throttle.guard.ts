import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type {
  ThrottlerLimitDetail,
  ThrottlerRequest,
} from '@nestjs/throttler/dist/throttler.guard.interface';
import { isUnavailableError } from '../common/errors/error-mapping';
import { AppConfig } from '../infra/config/app-config';
import { RateLimitedError } from '../infra/throttling';
import { REGISTER_IPV6_PREFIX, ipBucket } from './client-info';

/**
 * `@nestjs/throttler` on POST /auth/register: REGISTER_RATE_LIMIT per client per
 * REGISTER_RATE_WINDOW_SECONDS, in the shared Redis storage (so it holds across instances). A
 * client is an IPv4 address or an IPv6 /56 (what one home or customer is usually delegated), so
 * rotating addresses inside one's own prefix does not reset the count.
 * Over the limit → 429 RATE_LIMITED with Retry-After. Redis down → registration stays open.
 */
@Injectable()
export class RegisterThrottleGuard extends ThrottlerGuard {
  @Inject(AppConfig) private readonly config!: AppConfig;
  private readonly log = new Logger('RegisterThrottle');

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const windowMs = this.config.auth.registerRateWindowSeconds * 1000;
    try {
      return await super.handleRequest({
        ...props,
        limit: this.config.auth.registerRateLimit,
        ttl: windowMs,
        blockDuration: windowMs,
      });
    } catch (err) {
      if (!isUnavailableError(err)) throw err;
      this.log.warn(`registration not rate limited (${(err as Error).message})`);
      return true;
    }
  }

  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(ipBucket(String(req.ip ?? ''), REGISTER_IPV6_PREFIX));
  }

  protected override async throwThrottlingException(
    _ctx: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new RateLimitedError(
      Math.max(1, detail.timeToBlockExpire),
      'Too many registrations from this address; retry later',
    );
  }
}
