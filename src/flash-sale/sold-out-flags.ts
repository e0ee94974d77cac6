import { Injectable, OnModuleInit } from '@nestjs/common';
import { RedisService } from '../infra/redis/redis.service';

const SOLD_OUT_CHANNEL = 'flash-sale:sold-out';
const RESTOCK_CHANNEL = 'flash-sale:restock';
/**
 * A flag expires after this long: the next purchase then asks Redis again (which re-raises it if
 * still sold out). This bounds the damage of a lost restock broadcast to a few seconds.
 */
const FLAG_TTL_MS = 3000;

/**
 * In-process "sold out" flags, one per sale: a purchase on a sold-out sale is answered from
 * memory with no network call. Raised locally when the script reports the last unit or
 * SOLD_OUT and broadcast over Redis pub/sub so every instance raises it; cleared (everywhere)
 * when an expired order gives its unit back.
 */
@Injectable()
export class SoldOutFlags implements OnModuleInit {
  private readonly until = new Map<string, number>();

  constructor(private readonly redis: RedisService) {}

  async onModuleInit(): Promise<void> {
    await this.redis.subscribe(SOLD_OUT_CHANNEL, (saleId) => this.raise(saleId));
    await this.redis.subscribe(RESTOCK_CHANNEL, (saleId) => this.until.delete(saleId));
  }

  isSoldOut(saleId: string): boolean {
    const t = this.until.get(saleId);
    if (t === undefined) return false;
    if (t > Date.now()) return true;
    this.until.delete(saleId);
    return false;
  }

  raise(saleId: string): void {
    this.until.set(saleId, Date.now() + FLAG_TTL_MS);
  }

  async broadcastSoldOut(saleId: string): Promise<void> {
    this.raise(saleId);
    await this.redis.publish(SOLD_OUT_CHANNEL, saleId);
  }

  async broadcastRestock(saleId: string): Promise<void> {
    this.until.delete(saleId);
    await this.redis.publish(RESTOCK_CHANNEL, saleId);
  }
}
