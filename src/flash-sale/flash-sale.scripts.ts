/**
 * The Lua scripts of the flash sale. Redis runs a script to completion with no other command
 * in between, so each script is one atomic step over the keys of one sale. All keys of a sale
 * share the hash tag `{fs:<id>}` and are passed in KEYS, so the scripts also run on Redis Cluster
 * (every key in one slot). Scripts are registered with ioredis `defineCommand`: EVALSHA, with a
 * transparent EVAL when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 *
 * Layout (see docs/flash-sale.md): `state` hash {stock, startsAt, endsAt, limit, quantity,
 * closed, closedStock, returnedAfterClose; after a rebuild also base, epoch, runId; paused while
 * one runs}; `held` hash user → units held now; `seq` hash
 * user → units ever taken (the `n` of the unique (sale, user, n) key, never goes back);
 * `stream` the reservations, read by the consumer group; `returned` hash order → where its unit
 * went; `soldout` a flag key set with the last unit.
 */

/** Purchase outcome codes returned by {@link PURCHASE_SCRIPT}. */
export const PURCHASE = {
  RESERVED: 0,
  SOLD_OUT: 1,
  NOT_ACTIVE: 2,
  LIMIT_REACHED: 3,
  RATE_LIMITED: 4,
  MISSING: -1,
  /** The sale's counters are being rebuilt from MySQL (Redis lost writes): nothing sold meanwhile. */
  PAUSED: -2,
} as const;

/**
 * KEYS: state, held, seq, stream, soldout, attempts. ARGV: userId, reservationId, attemptLimit,
 * attemptWindowMs. Returns {code}, {4, msUntilReset} or {0, n, stockLeft, epoch}.
 *
 * `paused` (set while the counters are rebuilt from MySQL after Redis lost writes, see
 * REBUILD_SCRIPT) refuses before anything is counted. `epoch` (the rebuild generation, 0 until
 * the first) lets the instance that answered 202 tell later whether Redis may have lost it.
 *
 * Bots: `attempts` (per sale and user) counts calls in a fixed window; past `attemptLimit`
 * (0 = no limit) the call is refused before anything else is looked at. Counting here rather than
 * in a separate throttler call keeps a purchase at exactly one Redis round trip.
 *
 * Atomicity: the checks (sale present, window by the server's own clock, the user's holding
 * below the limit, stock above zero) and the effects (stock - 1, holding + 1, n = seq + 1, XADD
 * of the reservation, sold-out flag on the last unit) happen in one script, so no other purchase
 * interleaves: stock can never go below zero, a user can never exceed the limit, and a
 * reservation entry exists in the stream exactly when a unit was taken. With AOF the script's
 * effects are logged together. TIME is read before any write (allowed: scripts replicate effects).
 */
export const PURCHASE_SCRIPT = `
local s = redis.call('HMGET', KEYS[1], 'stock', 'startsAt', 'endsAt', 'limit', 'closed', 'paused', 'epoch')
if not s[1] then return {-1} end
if s[6] then return {-2} end
if tonumber(ARGV[3]) > 0 then
  local a = redis.call('INCR', KEYS[6])
  if a == 1 then redis.call('PEXPIRE', KEYS[6], ARGV[4]) end
  if a > tonumber(ARGV[3]) then return {4, redis.call('PTTL', KEYS[6])} end
end
if s[5] == '1' then return {2} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now < tonumber(s[2]) or now >= tonumber(s[3]) then return {2} end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held >= tonumber(s[4]) then return {3} end
local stock = tonumber(s[1])
if stock <= 0 then
  redis.call('SET', KEYS[5], '1')
  return {1}
end
redis.call('HSET', KEYS[1], 'stock', stock - 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local n = redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('XADD', KEYS[4], '*', 'r', ARGV[2], 'u', ARGV[1], 'n', n)
if stock - 1 == 0 then redis.call('SET', KEYS[5], '1') end
return {0, n, stock - 1, tonumber(s[7] or '0')}
`;

/**
 * KEYS: state, held, returned, soldout. ARGV: userId, orderId.
 * Gives the unit of an expired/cancelled unpaid order back: to the sale's stock while the sale
 * is open ('sale'), or, once it was closed, marks it for release to inventory ('inventory').
 * Idempotent per order: the `returned` hash remembers where each order's unit went, and a
 * second call returns {1, where} with no effect.
 * Returns {0, where} | {1, where} | {-1} (sale keys missing) | {-2} (paused for a rebuild: retry).
 */
export const RETURN_SCRIPT = `
local prev = redis.call('HGET', KEYS[3], ARGV[2])
if prev then return {1, prev} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if redis.call('HEXISTS', KEYS[1], 'paused') == 1 then return {-2} end
local held = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if held > 0 then redis.call('HINCRBY', KEYS[2], ARGV[1], -1) end
if redis.call('HGET', KEYS[1], 'closed') == '1' then
  redis.call('HSET', KEYS[3], ARGV[2], 'inventory')
  redis.call('HINCRBY', KEYS[1], 'returnedAfterClose', 1)
  return {0, 'inventory'}
end
redis.call('HSET', KEYS[3], ARGV[2], 'sale')
redis.call('HINCRBY', KEYS[1], 'stock', 1)
redis.call('DEL', KEYS[4])
return {0, 'sale'}
`;

/**
 * KEYS: state, soldout. Closes the sale: remaining stock moves to `closedStock` (to be released
 * to inventory) and no purchase or return to the sale happens afterwards. Idempotent: a second
 * call returns the same remaining count. Returns {0|1, remaining} | {-1} | {-2} (paused).
 */
export const CLOSE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if redis.call('HEXISTS', KEYS[1], 'paused') == 1 then return {-2} end
if redis.call('HGET', KEYS[1], 'closed') == '1' then
  return {1, tonumber(redis.call('HGET', KEYS[1], 'closedStock'))}
end
local stock = tonumber(redis.call('HGET', KEYS[1], 'stock'))
redis.call('HSET', KEYS[1], 'closed', '1', 'closedStock', stock, 'stock', 0)
redis.call('SET', KEYS[2], '1')
return {0, stock}
`;

/**
 * KEYS: state. ARGV: quantity, startsAt ms, endsAt ms, limit. Creates the sale's state once,
 * stamped with this Redis process's run_id (see FENCE_SCRIPT); a second call (e.g. a retried
 * transaction) leaves existing state alone. Returns 1 | 0.
 */
export const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
redis.call('HSET', KEYS[1], 'stock', ARGV[1], 'quantity', ARGV[1], 'startsAt', ARGV[2],
  'endsAt', ARGV[3], 'limit', ARGV[4], 'closed', '0', 'closedStock', 0, 'returnedAfterClose', 0,
  'epoch', 0, 'base', 0, 'runId', run)
return 1
`;

/**
 * KEYS: state. The "is this still the Redis we checked?" fence, run when the purchase script is
 * missing from Redis's script cache (NOSCRIPT: a restart, a failover to a replica, SCRIPT FLUSH —
 * the cache is never persisted nor replicated, so it is a per-process marker). The state stores
 * the `run_id` of the Redis process under which the sale's counters were last rebuilt; a different
 * one means the data may be an older copy (AOF everysec, an asynchronous replica, a restored
 * snapshot), so the sale is paused until rebuilt from MySQL. INFO is read inside the script so
 * that on a Cluster it is the run_id of the node that owns the sale's slot.
 * Returns 0 (stamped by this process: nothing to do) | 1 (paused now) | 2 (already paused: a
 * rebuild runs or must run; the pause is left as it is, its token belongs to that rebuild) |
 * -1 (no state at all).
 */
export const FENCE_SCRIPT = `
local s = redis.call('HMGET', KEYS[1], 'stock', 'runId', 'paused')
if not s[1] then return -1 end
if s[3] then return 2 end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if s[2] == run then return 0 end
redis.call('HSET', KEYS[1], 'paused', 'fence')
return 1
`;

/**
 * KEYS: state. ARGV: token. Pauses the sale for a rebuild: purchases answer PAUSED, returns and
 * the close wait. Returns 0 | -1 (no state: the rebuild creates it).
 */
export const PAUSE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'paused', ARGV[1])
return 0
`;

/**
 * KEYS: state, held, seq, returned, soldout, staged held, staged seq, staged returned.
 * ARGV: token, stock, quantity, startsAt, endsAt, limit, closed, closedStock, returnedAfterClose,
 * base, epoch, then the expected sizes of the three staged hashes.
 *
 * Commits a rebuild in one step: the per-user hashes computed from MySQL were written to staging
 * keys (same hash tag) while the sale was paused; they replace the live ones, the state hash is
 * rewritten (no `paused`), the sold-out flag follows the stock and the state is stamped with this
 * process's run_id (see FENCE_SCRIPT). Only if the sale is still paused by this rebuild (`token`)
 * or has no state at all, and only if the staged hashes are complete (a Redis that restarted
 * during the rebuild may have lost them). Returns 0 | -1 (someone else's pause) | -2 (staging
 * incomplete: run the rebuild again).
 */
export const REBUILD_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HGET', KEYS[1], 'paused') ~= ARGV[1] then return -1 end
for i = 6, 8 do
  if redis.call('HLEN', KEYS[i]) ~= tonumber(ARGV[i + 6]) then return -2 end
end
for i = 2, 4 do
  if redis.call('EXISTS', KEYS[i + 4]) == 1 then redis.call('RENAME', KEYS[i + 4], KEYS[i])
  else redis.call('DEL', KEYS[i]) end
end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'stock', ARGV[2], 'quantity', ARGV[3], 'startsAt', ARGV[4], 'endsAt', ARGV[5],
  'limit', ARGV[6], 'closed', ARGV[7], 'closedStock', ARGV[8], 'returnedAfterClose', ARGV[9],
  'base', ARGV[10], 'epoch', ARGV[11], 'runId', run)
if tonumber(ARGV[2]) <= 0 then redis.call('SET', KEYS[5], '1') else redis.call('DEL', KEYS[5]) end
return 0
`;

/**
 * KEYS: seq. ARGV: userId, n, userId, n, ... Raises each user's sequence to at least n (never
 * lowers it): after the consumer gave a reservation a fresh number, the next purchase must not
 * reuse it.
 */
export const SEQ_AT_LEAST_SCRIPT = `
for i = 1, #ARGV, 2 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if cur < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 0
`;
