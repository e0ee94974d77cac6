/**
 * The Lua scripts of the flash sale. Redis runs a script to completion with no other command
 * in between, so each script is one atomic step over the keys of one sale. All keys of a sale
 * share the hash tag `{fs:<id>}` and are passed in KEYS, so the scripts also run on Redis Cluster
 * (every key in one slot). Scripts are registered with ioredis `defineCommand`: EVALSHA, with a
 * transparent EVAL when the server answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 *
 * Layout (see docs/flash-sale.md): `state` hash {stock, startsAt, endsAt, limit, quantity,
 * closed, closedStock, returnedAfterClose}; `held` hash user → units held now; `seq` hash
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
} as const;

/**
 * KEYS: state, held, seq, stream, soldout, attempts. ARGV: userId, reservationId, attemptLimit,
 * attemptWindowMs. Returns {code}, {4, msUntilReset} or {0, n, stockLeft}.
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
local s = redis.call('HMGET', KEYS[1], 'stock', 'startsAt', 'endsAt', 'limit', 'closed')
if not s[1] then return {-1} end
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
return {0, n, stock - 1}
`;

/**
 * KEYS: state, held, returned, soldout. ARGV: userId, orderId.
 * Gives the unit of an expired/cancelled unpaid order back: to the sale's stock while the sale
 * is open ('sale'), or, once it was closed, marks it for release to inventory ('inventory').
 * Idempotent per order: the `returned` hash remembers where each order's unit went, and a
 * second call returns {1, where} with no effect.
 * Returns {0, where} | {1, where} | {-1} (sale keys missing).
 */
export const RETURN_SCRIPT = `
local prev = redis.call('HGET', KEYS[3], ARGV[2])
if prev then return {1, prev} end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
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
 * call returns the same remaining count. Returns {0|1, remaining} | {-1}.
 */
export const CLOSE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
if redis.call('HGET', KEYS[1], 'closed') == '1' then
  return {1, tonumber(redis.call('HGET', KEYS[1], 'closedStock'))}
end
local stock = tonumber(redis.call('HGET', KEYS[1], 'stock'))
redis.call('HSET', KEYS[1], 'closed', '1', 'closedStock', stock, 'stock', 0)
redis.call('SET', KEYS[2], '1')
return {0, stock}
`;

/**
 * KEYS: state. ARGV: quantity, startsAt ms, endsAt ms, limit. Creates the sale's state once;
 * a second call (e.g. a retried transaction) leaves existing state alone. Returns 1 | 0.
 */
export const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'stock', ARGV[1], 'quantity', ARGV[1], 'startsAt', ARGV[2],
  'endsAt', ARGV[3], 'limit', ARGV[4], 'closed', '0', 'closedStock', 0, 'returnedAfterClose', 0)
return 1
`;
