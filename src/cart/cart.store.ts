import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisService } from '../infra/redis/redis.service';

/**
 * KEYS: cart. ARGV: sku, mode ('add' | 'set'), quantity, maxLines, maxQuantity, ttlSeconds.
 * Returns {0, newQuantity, sku1, q1, sku2, q2, ...} (the cart after the change, so the answer
 * needs no second round trip) | {-1, current} (the cart holds maxLines other SKUs already) |
 * {-2, current} (the SKU's quantity would exceed maxQuantity).
 *
 * One script, so the caps hold under concurrent requests of the same customer (two devices):
 * the read of the line, the line count and the write happen with nothing in between. A
 * quantity of 0 (set) removes the line. Every change restarts the cart's TTL.
 */
const CHANGE_SCRIPT = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local q
if ARGV[2] == 'add' then q = cur + tonumber(ARGV[3]) else q = tonumber(ARGV[3]) end
if q > tonumber(ARGV[5]) then return {-2, cur} end
if q <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  if cur == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {-1, cur} end
  redis.call('HSET', KEYS[1], ARGV[1], q)
end
redis.call('EXPIRE', KEYS[1], ARGV[6])
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, q)
table.insert(out, 1, 0)
return out
`;

/**
 * KEYS: cart. ARGV: sku1, quantity1, sku2, quantity2, ... Takes what an order took out of the
 * cart: each line loses at most that quantity and disappears at 0, in one step, so a line
 * added from another device meanwhile stays.
 */
const TAKE_SCRIPT = `
for i = 1, #ARGV, 2 do
  local left = redis.call('HINCRBY', KEYS[1], ARGV[i], -tonumber(ARGV[i + 1]))
  if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
return 0
`;

const CHANGE_SHA = createHash('sha1').update(CHANGE_SCRIPT).digest('hex');

type ScriptedRedis = Redis & {
  cartChange(...args: (string | number)[]): Promise<(string | number)[]>;
  cartTake(...args: (string | number)[]): Promise<number>;
};

export type ChangeResult =
  | { ok: true; quantity: number; lines: Map<string, number> }
  | { ok: false; reason: 'lines' | 'quantity'; current: number };

/**
 * The carts in Redis: one hash per customer, SKU → quantity, under `<prefix>:{cart:<userId>}`.
 * Every operation touches that one key, so on a Redis Cluster (hash tag = the first `{…}` of the
 * key) carts go wherever their tag sends them and need no shared slot.
 */
@Injectable()
export class CartStore {
  private readonly r: ScriptedRedis;

  constructor(private readonly redis: RedisService) {
    const client = redis.client;
    if (typeof (client as unknown as Record<string, unknown>).cartChange !== 'function') {
      client.defineCommand('cartChange', { numberOfKeys: 1, lua: CHANGE_SCRIPT });
      client.defineCommand('cartTake', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    }
    this.r = client as ScriptedRedis;
  }

  key(userId: string): string {
    return this.redis.key(`{cart:${userId}}`);
  }

  // Plain `.then` chains (here and in CartService): every `async` hop is one more promise per
  // request on the HTTP edge, and each promise runs the AsyncLocalStorage init hook.
  // The two calls of a shopper's every page load (read, add) go over the lane while it is
  // connected (RedisService.lane: a quarter of these requests' CPU was ioredis's own).
  lines(userId: string): Promise<Map<string, number>> {
    const lane = this.redis.lane;
    if (lane?.ready) return lane.send(['HGETALL', this.key(userId)]).then((r) => pairsToLines(r as string[]));
    return this.r.hgetall(this.key(userId)).then(toLines);
  }

  change(
    userId: string,
    sku: string,
    mode: 'add' | 'set',
    quantity: number,
    caps: { maxLines: number; maxQuantity: number; ttlSeconds: number },
  ): Promise<ChangeResult> {
    const args = [this.key(userId), sku, mode, quantity, caps.maxLines, caps.maxQuantity, caps.ttlSeconds];
    const lane = this.redis.lane;
    if (!lane?.ready) return this.r.cartChange(...args).then(toChangeResult);
    return lane.send(['EVALSHA', CHANGE_SHA, 1, ...args]).then(
      (reply) => toChangeResult(reply as (string | number)[]),
      // A Redis that does not know the script (restarted, SCRIPT FLUSH): ioredis's command loads it.
      (err: Error) =>
        err.message.startsWith('NOSCRIPT')
          ? this.r.cartChange(...args).then(toChangeResult)
          : Promise.reject(err),
    );
  }

  async remove(userId: string, sku: string): Promise<boolean> {
    return (await this.r.hdel(this.key(userId), sku)) === 1;
  }

  async clear(userId: string): Promise<void> {
    await this.r.del(this.key(userId));
  }

  /** Takes what an order took out of the cart (see TAKE_SCRIPT); lines added meanwhile stay. */
  async take(userId: string, lines: { sku: string; quantity: number }[]): Promise<void> {
    if (!lines.length) return;
    await this.r.cartTake(this.key(userId), ...lines.flatMap((l) => [l.sku, l.quantity]));
  }
}

function toLines(raw: Record<string, string>): Map<string, number> {
  const lines = new Map<string, number>();
  for (const sku of Object.keys(raw)) lines.set(sku, Number(raw[sku]));
  return lines;
}

/** HGETALL's flat reply (field, value, field, value, …). */
function pairsToLines(pairs: string[]): Map<string, number> {
  const lines = new Map<string, number>();
  for (let i = 0; i < pairs.length; i += 2) lines.set(pairs[i], Number(pairs[i + 1]));
  return lines;
}

function toChangeResult(reply: (string | number)[]): ChangeResult {
  const code = Number(reply[0]);
  const q = Number(reply[1]);
  if (code === 0) {
    const lines = new Map<string, number>();
    for (let i = 2; i < reply.length; i += 2) lines.set(String(reply[i]), Number(reply[i + 1]));
    return { ok: true, quantity: q, lines };
  }
  return { ok: false, reason: code === -1 ? 'lines' : 'quantity', current: q };
}
