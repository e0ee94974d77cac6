import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RedisService } from '../redis/redis.service';

const CHANNEL = 'ryw';

/**
 * Read-your-writes across instances: a user who wrote is served from the primary for
 * READ_YOUR_WRITES_MS. The note is kept in memory and broadcast over Redis pub/sub so every
 * instance knows it without a Redis round trip on reads. PUBLISH is awaited before the writing
 * request answers, so the broadcast is out before the client can send its next request.
 */
@Injectable()
export class RecentWriters implements OnModuleInit {
  private readonly until = new Map<string, number>();
  private sweepAt = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.db.readYourWritesMs <= 0) return;
    await this.redis.subscribe(CHANNEL, (userId) => this.remember(userId));
  }

  async noteWrite(userId: string): Promise<void> {
    if (this.config.db.readYourWritesMs <= 0) return;
    this.remember(userId);
    await this.redis.publish(CHANNEL, userId);
  }

  isRecent(userId: string | undefined): boolean {
    if (!userId) return false;
    const t = this.until.get(userId);
    if (t === undefined) return false;
    if (t > Date.now()) return true;
    this.until.delete(userId);
    return false;
  }

  private remember(userId: string): void {
    const now = Date.now();
    this.until.set(userId, now + this.config.db.readYourWritesMs);
    if (now > this.sweepAt) {
      this.sweepAt = now + this.config.db.readYourWritesMs;
      for (const [k, v] of this.until) if (v <= now) this.until.delete(k);
    }
  }
}
