import { Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisService } from '../infra/redis/redis.service';
import { CLOSE_SCRIPT, INIT_SCRIPT, PURCHASE, PURCHASE_SCRIPT, RETURN_SCRIPT } from './flash-sale.scripts';

export const CONSUMER_GROUP = 'orders';

export interface SaleKeys {
  state: string;
  held: string;
  seq: string;
  stream: string;
  returned: string;
  soldout: string;
  /** The per-user attempt counter's key is this plus the user id. */
  attemptsPrefix: string;
}

export interface RedisSaleState {
  stock: number;
  quantity: number;
  closed: boolean;
  closedStock: number;
  returnedAfterClose: number;
  soldOut: boolean;
}

export interface StreamEntry {
  streamId: string;
  reservationId: string;
  userId: string;
  n: number;
}

type Reply = [number, ...(string | number)[]];

interface ScriptedRedis extends Redis {
  fsPurchase(...args: (string | number)[]): Promise<Reply>;
  fsReturn(...args: (string | number)[]): Promise<Reply>;
  fsClose(...args: (string | number)[]): Promise<Reply>;
  fsInit(...args: (string | number)[]): Promise<number>;
}

/**
 * Every Redis access of the flash sale: the key layout, the Lua scripts and the stream.
 * Holds no business rules beyond what the scripts must do atomically.
 */
@Injectable()
export class FlashSaleStore {
  private readonly r: ScriptedRedis;
  private readonly keyCache = new Map<string, SaleKeys>();

  constructor(private readonly redis: RedisService) {
    const client = redis.client;
    if (typeof (client as unknown as Record<string, unknown>).fsPurchase !== 'function') {
      client.defineCommand('fsPurchase', { numberOfKeys: 6, lua: PURCHASE_SCRIPT });
      client.defineCommand('fsReturn', { numberOfKeys: 4, lua: RETURN_SCRIPT });
      client.defineCommand('fsClose', { numberOfKeys: 2, lua: CLOSE_SCRIPT });
      client.defineCommand('fsInit', { numberOfKeys: 1, lua: INIT_SCRIPT });
    }
    this.r = client as ScriptedRedis;
  }

  /** Keys of one sale; the `{fs:<id>}` hash tag puts them all in one Cluster slot. */
  keys(saleId: string): SaleKeys {
    let keys = this.keyCache.get(saleId);
    if (keys) return keys;
    const k = (part: string) => this.redis.key(`{fs:${saleId}}`, part);
    keys = {
      state: k('state'),
      held: k('held'),
      seq: k('seq'),
      stream: k('stream'),
      returned: k('returned'),
      soldout: k('soldout'),
      attemptsPrefix: k('attempts:'),
    };
    // Built once per sale (every purchase names them); a bounded map, as ids come from callers.
    if (this.keyCache.size >= 1000) this.keyCache.clear();
    this.keyCache.set(saleId, keys);
    return keys;
  }

  async init(
    saleId: string,
    sale: { quantity: number; startsAt: Date; endsAt: Date; perUserLimit: number },
  ): Promise<void> {
    const k = this.keys(saleId);
    await this.r.fsInit(
      k.state,
      sale.quantity,
      sale.startsAt.getTime(),
      sale.endsAt.getTime(),
      sale.perUserLimit,
    );
    await this.ensureGroup(saleId);
  }

  /** Removes a sale's keys (a creation whose database transaction failed after init). */
  async drop(saleId: string): Promise<void> {
    const k = this.keys(saleId);
    await this.r.del(k.state, k.held, k.seq, k.stream, k.returned, k.soldout);
  }

  async ensureGroup(saleId: string, client: Redis = this.r): Promise<void> {
    try {
      await client.xgroup('CREATE', this.keys(saleId).stream, CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
  }

  /**
   * The one round trip of a purchase. `attempts` is the caller's budget of calls per window
   * (bots); omitted, calls are not counted. For RATE_LIMITED, `retryAfterMs` says when it resets.
   */
  async purchase(
    saleId: string,
    userId: string,
    reservationId: string,
    attempts: { limit: number; windowMs: number } = { limit: 0, windowMs: 0 },
  ): Promise<{ code: number; n?: number; stockLeft?: number; retryAfterMs?: number }> {
    const k = this.keys(saleId);
    const [code, n, left] = await this.r.fsPurchase(
      k.state,
      k.held,
      k.seq,
      k.stream,
      k.soldout,
      k.attemptsPrefix + userId,
      userId,
      reservationId,
      attempts.limit,
      attempts.windowMs,
    );
    if (code === PURCHASE.RATE_LIMITED) return { code, retryAfterMs: Math.max(0, Number(n)) };
    return {
      code,
      n: n === undefined ? undefined : Number(n),
      stockLeft: left === undefined ? undefined : Number(left),
    };
  }

  async returnUnit(
    saleId: string,
    userId: string,
    orderId: string,
  ): Promise<{ code: number; where?: 'sale' | 'inventory' }> {
    const k = this.keys(saleId);
    const [code, where] = await this.r.fsReturn(k.state, k.held, k.returned, k.soldout, userId, orderId);
    return { code, where: where as 'sale' | 'inventory' | undefined };
  }

  async close(saleId: string): Promise<{ code: number; remaining?: number }> {
    const k = this.keys(saleId);
    const [code, remaining] = await this.r.fsClose(k.state, k.soldout);
    return { code, remaining: remaining === undefined ? undefined : Number(remaining) };
  }

  async state(saleId: string): Promise<RedisSaleState | undefined> {
    const k = this.keys(saleId);
    const [[, fields], [, soldOut]] = (await this.r.multi().hgetall(k.state).exists(k.soldout).exec()) as [
      [unknown, Record<string, string>],
      [unknown, number],
    ];
    if (!fields || !fields.stock) return undefined;
    return {
      stock: Number(fields.stock),
      quantity: Number(fields.quantity),
      closed: fields.closed === '1',
      closedStock: Number(fields.closedStock ?? 0),
      returnedAfterClose: Number(fields.returnedAfterClose ?? 0),
      soldOut: soldOut === 1,
    };
  }

  async isSoldOut(saleId: string): Promise<boolean> {
    return (await this.r.exists(this.keys(saleId).soldout)) === 1;
  }

  /** Units the user holds now and has ever taken (the latest `n`). */
  async userCounts(saleId: string, userId: string): Promise<{ held: number; seq: number }> {
    const k = this.keys(saleId);
    const [held, seq] = await Promise.all([this.r.hget(k.held, userId), this.r.hget(k.seq, userId)]);
    return { held: Number(held ?? 0), seq: Number(seq ?? 0) };
  }

  /** Σ held over all users, read in HSCAN pages (never one blocking call over a huge hash). */
  async totalHeld(saleId: string): Promise<number> {
    const key = this.keys(saleId).held;
    let cursor = '0';
    let sum = 0;
    do {
      const [next, flat] = await this.r.hscan(key, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 1; i < flat.length; i += 2) sum += Number(flat[i]);
    } while (cursor !== '0');
    return sum;
  }

  /** Stream counters: entries ever added, returned units, and the group's pending + undelivered. */
  async streamStats(
    saleId: string,
  ): Promise<{ length: number; returned: number; pending: number; lag: number }> {
    const k = this.keys(saleId);
    const [length, returned, groups] = await Promise.all([
      this.r.xlen(k.stream),
      this.r.hlen(k.returned),
      this.r.xinfo('GROUPS', k.stream).catch(() => [] as unknown[]),
    ]);
    let pending = 0;
    let lag = 0;
    for (const g of groups as unknown[][]) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i < g.length; i += 2) info[String(g[i])] = g[i + 1];
      if (info.name !== CONSUMER_GROUP) continue;
      pending = Number(info.pending ?? 0);
      // `lag` (Redis 7): entries not yet delivered to the group; null when it cannot be computed.
      lag = info.lag === null || info.lag === undefined ? length : Number(info.lag);
    }
    return { length, returned, pending, lag };
  }

  /** Reads up to `count` new entries for `consumer`, blocking up to `blockMs` (dedicated connection). */
  async readGroup(
    conn: Redis,
    saleId: string,
    consumer: string,
    count: number,
    blockMs: number,
  ): Promise<StreamEntry[]> {
    const res = (await conn.xreadgroup(
      'GROUP',
      CONSUMER_GROUP,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.keys(saleId).stream,
      '>',
    )) as [string, [string, string[]][]][] | null;
    return res ? res.flatMap(([, entries]) => entries.map(toEntry)) : [];
  }

  /** Takes over entries idle longer than `minIdleMs` in other consumers' pending lists. */
  async autoClaim(
    saleId: string,
    consumer: string,
    minIdleMs: number,
    count: number,
    cursor = '0-0',
  ): Promise<{ next: string; entries: StreamEntry[] }> {
    const [next, raw] = (await this.r.xautoclaim(
      this.keys(saleId).stream,
      CONSUMER_GROUP,
      consumer,
      minIdleMs,
      cursor,
      'COUNT',
      count,
    )) as [string, ([string, string[]] | null)[]];
    return { next, entries: raw.filter((e): e is [string, string[]] => !!e).map(toEntry) };
  }

  async ack(saleId: string, streamIds: string[]): Promise<void> {
    if (streamIds.length) await this.r.xack(this.keys(saleId).stream, CONSUMER_GROUP, ...streamIds);
  }
}

function toEntry([streamId, fields]: [string, string[]]): StreamEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return { streamId, reservationId: f.r, userId: f.u, n: Number(f.n) };
}
