import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { RedisService } from '../infra/redis/redis.service';

/**
 * The flash sale keeps sold units in Redis until the consumer persists them, so Redis must not
 * evict keys (maxmemory-policy noeviction) and must log writes (appendonly yes). Checked once at
 * start; a mismatch is a loud warning, not a boot failure (managed Redis may hide CONFIG).
 */
@Injectable()
export class RedisDurabilityCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('FlashSale');

  constructor(private readonly redis: RedisService) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const [, policy] = (await this.redis.client.config('GET', 'maxmemory-policy')) as string[];
      const [, aof] = (await this.redis.client.config('GET', 'appendonly')) as string[];
      if (policy !== 'noeviction')
        this.logger.warn(
          `Redis maxmemory-policy is "${policy}": flash-sale keys may be evicted; set noeviction (docs/flash-sale.md)`,
        );
      if (aof !== 'yes')
        this.logger.warn(
          'Redis appendonly is off: a restart loses flash-sale reservations not yet persisted; enable AOF (docs/flash-sale.md)',
        );
    } catch (err) {
      this.logger.warn(`could not verify Redis durability settings: ${(err as Error).message}`);
    }
  }
}
