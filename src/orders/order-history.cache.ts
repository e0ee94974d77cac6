import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DbRouter } from '../infra/database/db-router.service';
import { RedisService } from '../infra/redis/redis.service';

/** How long a page may be served by this instance at most, whatever the version says. */
export const HISTORY_L1_TTL_MS = 10_000;
/** A version key outlives every page cached under it by far (no version is ever reused anyway). */
const VERSION_TTL_MS = 24 * 3600_000;
/** In-process bytes for cached pages (UTF-16 length as the measure). */
const L1_MAX_CHARS = 32 * 1024 * 1024;
/** Retries of a version move that failed (Redis blip), a second apart. */
const BUMP_RETRIES = 3;

interface Entry {
  version: string;
  /** The page's JSON by page size. */
  pages: Map<number, string>;
}

/**
 * A customer's first history page (`GET /orders` without cursor or filters), kept in process
 * memory and validated against the customer's **history version** in Redis on every read.
 * Decision 0031.
 *
 * - Every change of a customer's orders (placement, flash-sale orders, address, every status
 *   change) moves the version to a new random token after its commit and before its answer
 *   (`changed`), so the writer's next read — on any instance — misses; so does everyone else's.
 * - A read takes the version first, then (on a miss) reads the primary: data read after the
 *   version is at least as new as it, so a page is never stored under a version newer than its data.
 * - Redis unavailable: `version` answers undefined and the caller reads the database as before.
 *   A version move that fails is retried (and this instance's pages of that customer dropped);
 *   HISTORY_L1_TTL_MS bounds what another instance could serve meanwhile.
 */
@Injectable()
export class OrderHistoryCache {
  private readonly logger = new Logger('OrderHistory');
  private readonly l1 = new LRUCache<string, Entry>({
    maxSize: L1_MAX_CHARS,
    sizeCalculation: (e) => {
      let n = 64;
      for (const json of e.pages.values()) n += json.length;
      return n;
    },
    ttl: HISTORY_L1_TTL_MS,
  });

  constructor(
    private readonly redis: RedisService,
    private readonly db: DbRouter,
  ) {}

  private key(userId: string): string {
    return this.redis.key('orders', 'hv', userId);
  }

  /** The customer's history version ('' before any change), or undefined when Redis does not answer. */
  async version(userId: string): Promise<string | undefined> {
    try {
      const lane = this.redis.lane;
      const v = lane?.ready
        ? ((await lane.send(['GET', this.key(userId)])) as string | null)
        : await this.redis.client.get(this.key(userId));
      return v ?? '';
    } catch {
      return undefined;
    }
  }

  /** The page stored under exactly this version, if any. */
  page(userId: string, version: string, limit: number): string | undefined {
    const e = this.l1.get(userId);
    return e?.version === version ? e.pages.get(limit) : undefined;
  }

  store(userId: string, version: string, limit: number, json: string): void {
    const e = this.l1.get(userId);
    if (e?.version === version) {
      e.pages.set(limit, json);
      this.l1.set(userId, e); // size recalculated
    } else this.l1.set(userId, { version, pages: new Map([[limit, json]]) });
  }

  /**
   * The customers' orders changed in the open transaction: after its commit (and before the
   * writer answers) their versions move. Call it inside the transaction callback, or pass the
   * WriteBatch's `afterCommit`.
   */
  changed(
    userIds: Iterable<string>,
    register: (hook: () => Promise<void>) => void = (hook) => this.db.afterCommit(hook),
  ): void {
    const users = [...new Set(userIds)];
    if (users.length) register(() => this.bump(users, BUMP_RETRIES));
  }

  private async bump(users: string[], retries: number): Promise<void> {
    for (const u of users) this.l1.delete(u);
    const failed: string[] = [];
    await Promise.all(
      users.map((u) =>
        this.redis.client
          .set(this.key(u), randomBytes(9).toString('base64url'), 'PX', VERSION_TTL_MS)
          .catch(() => failed.push(u)),
      ),
    );
    if (!failed.length) return;
    if (retries <= 0) {
      this.logger.warn(
        `history version of ${failed.length} customer(s) not moved (Redis); other instances may serve their previous first page for up to ${HISTORY_L1_TTL_MS} ms`,
      );
      return;
    }
    // Unobserved on purpose: the writer has its answer; bump catches every failure itself.
    setTimeout(() => void this.bump(failed, retries - 1), 1000).unref();
  }
}
