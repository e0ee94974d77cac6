import { Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { RedisService } from '../infra/redis/redis.service';
import {
  CLOSE_SCRIPT,
  FENCE_SCRIPT,
  INIT_SCRIPT,
  PAUSE_SCRIPT,
  PURCHASE,
  PURCHASE_SCRIPT,
  REBUILD_SCRIPT,
  RETURN_SCRIPT,
  SEQ_AT_LEAST_SCRIPT,
} from './flash-sale.scripts';

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
  /** Written while a rebuild runs, renamed over held/seq/returned when it commits. */
  stagedHeld: string;
  stagedSeq: string;
  stagedReturned: string;
}

export interface RedisSaleState {
  stock: number;
  quantity: number;
  closed: boolean;
  closedStock: number;
  returnedAfterClose: number;
  soldOut: boolean;
  /** A rebuild from MySQL is in progress (or was interrupted): nothing is sold. */
  paused: boolean;
  /** Rebuild generation (0 until the first rebuild). */
  epoch: number;
  /**
   * Units taken before the last rebuild that the stream no longer shows (it may have lost
   * entries with the rest of Redis): units ever taken = stream length + base.
   */
  base: number;
}

/** What the rebuild writes: the counters computed from MySQL. */
export interface RebuiltState {
  stock: number;
  quantity: number;
  startsAt: number;
  endsAt: number;
  limit: number;
  closed: boolean;
  closedStock: number;
  returnedAfterClose: number;
  base: number;
  epoch: number;
}

export interface StreamEntry {
  streamId: string;
  reservationId: string;
  userId: string;
  n: number;
}

type Reply = [number, ...(string | number)[]];

interface ScriptedRedis extends Redis {
  fsReturn(...args: (string | number)[]): Promise<Reply>;
  fsClose(...args: (string | number)[]): Promise<Reply>;
  fsInit(...args: (string | number)[]): Promise<number>;
  fsFence(...args: (string | number)[]): Promise<number>;
  fsPause(...args: (string | number)[]): Promise<number>;
  fsRebuild(...args: (string | number)[]): Promise<number>;
  fsSeqAtLeast(...args: (string | number)[]): Promise<number>;
}

const PURCHASE_SHA = createHash('sha1').update(PURCHASE_SCRIPT).digest('hex');

/**
 * Every Redis access of the flash sale: the key layout, the Lua scripts and the stream.
 * Holds no business rules beyond what the scripts must do atomically.
 */
@Injectable()
export class FlashSaleStore {
  private readonly r: ScriptedRedis;
  private readonly keyCache = new Map<string, SaleKeys>();
  /**
   * Runs when Redis no longer knows the purchase script (NOSCRIPT): a restarted or failed-over
   * Redis. Set by FlashSaleRecovery (it fences every open sale); the script is loaded again only
   * after it resolved, so no purchase runs on a Redis nobody checked. Without one (tests of the
   * scripts alone) the script is simply loaded.
   */
  private resetHandler?: () => Promise<void>;
  private reloading?: Promise<void>;

  constructor(private readonly redis: RedisService) {
    const client = redis.client;
    if (typeof (client as unknown as Record<string, unknown>).fsReturn !== 'function') {
      // The purchase script is NOT defined here: ioredis would EVAL it transparently on NOSCRIPT,
      // and NOSCRIPT is how a restarted Redis is noticed (see purchase()).
      client.defineCommand('fsReturn', { numberOfKeys: 4, lua: RETURN_SCRIPT });
      client.defineCommand('fsClose', { numberOfKeys: 2, lua: CLOSE_SCRIPT });
      client.defineCommand('fsInit', { numberOfKeys: 1, lua: INIT_SCRIPT });
      client.defineCommand('fsFence', { numberOfKeys: 1, lua: FENCE_SCRIPT });
      client.defineCommand('fsPause', { numberOfKeys: 1, lua: PAUSE_SCRIPT });
      client.defineCommand('fsRebuild', { numberOfKeys: 8, lua: REBUILD_SCRIPT });
      client.defineCommand('fsSeqAtLeast', { numberOfKeys: 1, lua: SEQ_AT_LEAST_SCRIPT });
    }
    this.r = client as ScriptedRedis;
  }

  onRedisReset(handler: () => Promise<void>): void {
    this.resetHandler = handler;
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
      stagedHeld: k('rebuild:held'),
      stagedSeq: k('rebuild:seq'),
      stagedReturned: k('rebuild:returned'),
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
    // Every key of the sale; attemptsPrefix names no key (the attempt counters expire on their own).
    const { attemptsPrefix: _attempts, ...keys } = this.keys(saleId);
    await this.r.del(...Object.values(keys));
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
  ): Promise<{ code: number; n?: number; stockLeft?: number; retryAfterMs?: number; epoch?: number }> {
    const k = this.keys(saleId);
    const args = [k.state, k.held, k.seq, k.stream, k.soldout, k.attemptsPrefix + userId];
    const argv = [userId, reservationId, attempts.limit, attempts.windowMs];
    let reply: Reply;
    try {
      // Over the lean connection while it is up (RedisService.lane, decision 0030); a NOSCRIPT
      // from it is handled below like ioredis's, and the retry goes over ioredis.
      const lane = this.redis.lane;
      reply = (await (lane?.ready
        ? lane.send(['EVALSHA', PURCHASE_SHA, 6, ...args, ...argv])
        : this.r.evalsha(PURCHASE_SHA, 6, ...args, ...argv))) as Reply;
    } catch (err) {
      if (!isNoScript(err)) throw err;
      await this.reloadPurchaseScript();
      try {
        reply = (await this.r.evalsha(PURCHASE_SHA, 6, ...args, ...argv)) as Reply;
      } catch (again) {
        // Gone again at once (another restart, SCRIPT FLUSH): nothing was sold; answer paused.
        if (!isNoScript(again)) throw again;
        return { code: PURCHASE.PAUSED };
      }
    }
    const [code, n, left, epoch] = reply;
    if (code === PURCHASE.RATE_LIMITED) return { code, retryAfterMs: Math.max(0, Number(n)) };
    return {
      code,
      n: n === undefined ? undefined : Number(n),
      stockLeft: left === undefined ? undefined : Number(left),
      epoch: epoch === undefined ? undefined : Number(epoch),
    };
  }

  /** One reload at a time per process: the reset handler first, then SCRIPT LOAD (every master). */
  private reloadPurchaseScript(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        await this.resetHandler?.();
        const cluster = this.r as unknown as Partial<Cluster>;
        const nodes = typeof cluster.nodes === 'function' ? cluster.nodes('master') : [this.r];
        await Promise.all(nodes.map((n) => n.script('LOAD', PURCHASE_SCRIPT)));
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /**
   * The fence of a sale (see FENCE_SCRIPT): 'ok' when its counters were built under this Redis
   * process, 'paused' when it was paused now because they were not, 'was-paused' when a rebuild
   * runs (or died and must run again), 'missing' without state.
   */
  async fence(saleId: string): Promise<'ok' | 'paused' | 'was-paused' | 'missing'> {
    const r = await this.r.fsFence(this.keys(saleId).state);
    return r === 0 ? 'ok' : r === 1 ? 'paused' : r === 2 ? 'was-paused' : 'missing';
  }

  /** Pauses the sale for a rebuild; false when it has no state (the rebuild will create it). */
  async pause(saleId: string, token: string): Promise<boolean> {
    return (await this.r.fsPause(this.keys(saleId).state, token)) === 0;
  }

  /** Writes the hashes of a rebuild to the staging keys, in pages, while the sale is paused. */
  async stage(
    saleId: string,
    held: Map<string, number>,
    seq: Map<string, number>,
    returned: Map<string, string>,
  ): Promise<void> {
    const k = this.keys(saleId);
    await this.r.del(k.stagedHeld, k.stagedSeq, k.stagedReturned);
    for (const [key, map] of [
      [k.stagedHeld, held],
      [k.stagedSeq, seq],
      [k.stagedReturned, returned],
    ] as const) {
      let page: (string | number)[] = [];
      for (const [field, value] of map) {
        page.push(field, value);
        if (page.length >= 2000) {
          await this.r.hset(key, ...page);
          page = [];
        }
      }
      if (page.length) await this.r.hset(key, ...page);
    }
  }

  /** Commits a rebuild (see REBUILD_SCRIPT): 0 | -1 someone else's pause | -2 staging incomplete. */
  async commitRebuild(
    saleId: string,
    token: string,
    s: RebuiltState,
    staged: { held: number; seq: number; returned: number },
  ): Promise<number> {
    const k = this.keys(saleId);
    return this.r.fsRebuild(
      k.state,
      k.held,
      k.seq,
      k.returned,
      k.soldout,
      k.stagedHeld,
      k.stagedSeq,
      k.stagedReturned,
      token,
      s.stock,
      s.quantity,
      s.startsAt,
      s.endsAt,
      s.limit,
      s.closed ? '1' : '0',
      s.closedStock,
      s.returnedAfterClose,
      s.base,
      s.epoch,
      staged.held,
      staged.seq,
      staged.returned,
    );
  }

  /** Raises users' sequences to at least the numbers the consumer gave their reservations. */
  async seqAtLeast(saleId: string, numbers: Map<string, number>): Promise<void> {
    if (!numbers.size) return;
    await this.r.fsSeqAtLeast(this.keys(saleId).seq, ...[...numbers].flat());
  }

  /** Every field of a hash, read in HSCAN pages. */
  async hashEntries(key: 'held' | 'seq' | 'returned', saleId: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const full = this.keys(saleId)[key];
    let cursor = '0';
    do {
      const [next, flat] = await this.r.hscan(full, cursor, 'COUNT', 1000);
      cursor = next;
      for (let i = 0; i < flat.length; i += 2) out.set(flat[i], flat[i + 1]);
    } while (cursor !== '0');
    return out;
  }

  /**
   * Units given back (the `returned` hash's size) and which of `orderIds` are in it: the
   * consumer's view of returns that Redis already made but MySQL may not show yet.
   */
  async returnedInfo(saleId: string, orderIds: string[]): Promise<{ count: number; returned: Set<string> }> {
    const key = this.keys(saleId).returned;
    const [count, flags] = await Promise.all([
      this.r.hlen(key),
      orderIds.length ? this.r.hmget(key, ...orderIds) : Promise.resolve([] as (string | null)[]),
    ]);
    return { count, returned: new Set(orderIds.filter((_, i) => flags[i] !== null)) };
  }

  /** Stream entries in id order, `count` at a time after `after` (exclusive; '-' to start). */
  async range(saleId: string, after: string, count: number): Promise<StreamEntry[]> {
    const start = after === '-' ? '-' : `(${after}`;
    const raw = (await this.r.xrange(this.keys(saleId).stream, start, '+', 'COUNT', count)) as [
      string,
      string[],
    ][];
    return raw.map(toEntry);
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
      paused: fields.paused !== undefined,
      epoch: Number(fields.epoch ?? 0),
      base: Number(fields.base ?? 0),
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
    const [length, returned, groups, last] = await Promise.all([
      this.r.xlen(k.stream),
      this.r.hlen(k.returned),
      this.r.xinfo('GROUPS', k.stream).catch(() => [] as unknown[]),
      this.r.xrevrange(k.stream, '+', '-', 'COUNT', 1),
    ]);
    let pending = 0;
    let lag = 0;
    for (const g of groups as unknown[][]) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i < g.length; i += 2) info[String(g[i])] = g[i + 1];
      if (info.name !== CONSUMER_GROUP) continue;
      pending = Number(info.pending ?? 0);
      // `lag` (Redis 7): entries not yet delivered to the group; null when it cannot be computed.
      // The counter it derives from is not exact on a replica promoted by a failover (Redis 7.0
      // keeps reporting a lag there although the group was delivered the last entry): nothing is
      // undelivered once the group's last delivered id is the stream's last entry.
      const lastId = last[0]?.[0];
      if (!lastId || compareStreamIds(String(info['last-delivered-id']), lastId) >= 0) lag = 0;
      else lag = info.lag === null || info.lag === undefined ? length : Number(info.lag);
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

/** Orders two stream ids (`<ms>-<seq>`). */
function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : (as ?? 0n) < (bs ?? 0n) ? -1 : 1;
}

function isNoScript(err: unknown): boolean {
  return /NOSCRIPT/.test((err as Error)?.message ?? '');
}

function toEntry([streamId, fields]: [string, string[]]): StreamEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  return { streamId, reservationId: f.r, userId: f.u, n: Number(f.n) };
}
