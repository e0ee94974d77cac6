import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisService } from '../../src/infra/redis/redis.service';
import { LaneReplyError, RespLane } from '../../src/infra/redis/resp-lane';
import { createProduct, uniqueSku } from '../orders/builders';
import { adminToken, registerUser } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { TestApp, eventually, http, startApp } from '../support/test-app';

const COMMAND_TIMEOUT_MS = 1000;
/** The app's REDIS_COMMAND_TIMEOUT_MS in the cart test, and what "answered within the bound" allows. */
const APP_COMMAND_TIMEOUT_MS = 2000;

/**
 * The hot paths' lean Redis connection (RespLane, decision 0030) against the real Redis of the
 * run, and the cart over it: the same answers ioredis gives, in order under concurrency, and the
 * failure rules of the shared client — a silent Redis rejects "Command timed out" within the bound
 * and the connection is replaced, a dropped connection rejects what was in flight (never sent
 * again), nothing is queued while disconnected, and it serves again once Redis does.
 */
describe('RespLane on a real Redis', () => {
  const url = new URL(process.env.REDIS_URL!);
  const ns = `lane-test:${randomUUID()}`;
  let redis: Redis;
  let proxy: FaultProxy;
  const lanes: RespLane[] = [];
  // The fault test's lane has the short bound it measures; the others a generous one (a loaded
  // CI host can stall this process for a second).
  const laneTo = (port: number, commandTimeoutMs = 10_000) => {
    const l = new RespLane({
      host: url.hostname,
      port,
      commandTimeoutMs,
      connectTimeoutMs: 2000,
      name: 'lane-test',
    });
    lanes.push(l);
    return l;
  };
  const readyLane = async (port: number, commandTimeoutMs?: number) => {
    const l = laneTo(port, commandTimeoutMs);
    await eventually(async () => (l.ready ? true : undefined), 5000);
    return l;
  };

  beforeAll(async () => {
    redis = new Redis(process.env.REDIS_URL!);
    proxy = new FaultProxy(url.hostname, Number(url.port || 6379));
    await proxy.start();
  });
  afterAll(async () => {
    for (const l of lanes) l.close();
    await proxy?.set('pass');
    await proxy?.stop();
    const keys = await redis.keys(`${ns}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('answers as ioredis does: strings, integers, nil, arrays, nested script tables, large bulks and error replies', async () => {
    const lane = await readyLane(Number(url.port || 6379));
    const big = 'x'.repeat(1_500_000) + 'é';
    expect(await lane.send(['SET', `${ns}:s`, big])).toBe('OK');
    expect(await lane.send(['GET', `${ns}:s`])).toBe(big);
    expect(await lane.send(['GET', `${ns}:missing`])).toBeNull();
    expect(await lane.send(['HSET', `${ns}:h`, 'a', 1, 'b', 'two'])).toBe(2);
    expect(await lane.send(['HGETALL', `${ns}:h`])).toEqual(['a', '1', 'b', 'two']);
    const script = "return {1, 'x', {2, 'y'}, redis.call('GET', KEYS[1])}";
    expect(await lane.send(['EVAL', script, 1, `${ns}:missing`])).toEqual(
      await redis.eval(script, 1, `${ns}:missing`),
    );
    await expect(lane.send(['EVALSHA', 'f'.repeat(40), 0])).rejects.toThrow(/^NOSCRIPT /);
    await expect(lane.send(['HGETALL', `${ns}:s`])).rejects.toBeInstanceOf(LaneReplyError);
    await expect(lane.send(['HGETALL', `${ns}:s`])).rejects.toThrow(/^WRONGTYPE /);
    // An error reply does not put the stream out of step.
    expect(await lane.send(['GET', `${ns}:missing`])).toBeNull();
  });

  it('keeps the order of 3,000 concurrent commands (one write per event-loop turn)', async () => {
    const lane = await readyLane(Number(url.port || 6379));
    const replies = await Promise.all(Array.from({ length: 3000 }, () => lane.send(['INCR', `${ns}:n`])));
    expect(replies).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  it('a silent Redis: commands reject "Command timed out" within the bound, the connection is replaced, it serves again after', async () => {
    await proxy.set('pass');
    const lane = await readyLane(proxy.port, COMMAND_TIMEOUT_MS);
    expect(await lane.send(['PING'])).toBe('PONG');
    await proxy.set('blackhole');
    // The open connection goes silent too: the proxy stops forwarding on it.
    const started = Date.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => lane.send(['PING'])));
    const waited = Date.now() - started;
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value))).toEqual(
      Array(20).fill('Command timed out'),
    );
    expect(waited).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(COMMAND_TIMEOUT_MS + 5000);
    // Nothing is queued while it reconnects: told at once.
    expect(lane.ready).toBe(false);
    await expect(lane.send(['PING'])).rejects.toThrow(/Stream isn't writeable/);
    await proxy.set('pass');
    await eventually(async () => (lane.ready ? true : undefined), 10_000);
    expect(await lane.send(['PING'])).toBe('PONG');
  });

  it('a dropped connection rejects what was in flight and is never re-sent; then it reconnects', async () => {
    await proxy.set('pass');
    const lane = await readyLane(proxy.port);
    await proxy.set('latency', 300);
    const inflight = lane.send(['INCR', `${ns}:dropped`]);
    await new Promise((r) => setTimeout(r, 50));
    await proxy.set('reset');
    await expect(inflight).rejects.toThrow('Connection is closed.');
    await proxy.set('pass');
    await eventually(async () => (lane.ready ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    // The INCR may or may not have reached Redis before the reset, but it was not sent again.
    expect(Number(await redis.get(`${ns}:dropped`)) || 0).toBeLessThanOrEqual(1);
  });

  it('RedisService offers it for redis:// URLs only, not for Sentinel or Cluster', () => {
    const lane = RedisService.createLane('redis://127.0.0.1:1/2', 1000);
    expect(lane).toBeInstanceOf(RespLane);
    lane!.close();
    expect(RedisService.createLane('redis+sentinel://127.0.0.1:26379/mymaster', 1000)).toBeUndefined();
    expect(RedisService.createLane('redis+cluster://127.0.0.1:7000', 1000)).toBeUndefined();
  });
});

describe('the cart over the lane', () => {
  let proxy: FaultProxy;
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    const u = new URL(process.env.REDIS_URL!);
    redis = new Redis(process.env.REDIS_URL!);
    proxy = new FaultProxy(u.hostname, Number(u.port || 6379));
    await proxy.start();
    u.port = String(proxy.port);
    t = await startApp({
      APP_ROLE: 'api',
      REDIS_URL: u.toString(),
      REDIS_COMMAND_TIMEOUT_MS: String(APP_COMMAND_TIMEOUT_MS),
    });
  });
  afterAll(async () => {
    await proxy?.set('pass');
    await t?.close();
    await proxy?.stop();
    redis?.disconnect();
  });

  it('adds and reads over the lane, survives SCRIPT FLUSH, answers 503 naming redis while Redis is silent, and serves again after', async () => {
    const admin = await adminToken(t);
    const sku = uniqueSku('LANE');
    await createProduct(t, admin, [{ sku, price: 1250, stockOnHand: 100 }]);
    const { accessToken: token } = await registerUser(t);
    const add = () => http('POST', t.api('/cart/items'), { token, body: { sku, quantity: 1 } });
    const read = () => http('GET', t.api('/cart'), { token });

    // The first call opens the lane (and goes over ioredis meanwhile).
    expect((await add()).status).toBe(200);
    const lane = t.app.get(RedisService).lane!;
    await eventually(async () => (lane.ready ? true : undefined), 10_000);
    let res = await add();
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([expect.objectContaining({ sku, quantity: 2, lineTotal: 2500 })]);
    res = await read();
    expect(res.body).toMatchObject({ totalQuantity: 2, subtotal: { amount: 2500 } });
    // Redis saw the lane's connection run the read.
    expect(String(await redis.client('LIST'))).toMatch(/name=nest-commerce:lane .*cmd=hgetall/);

    // A Redis that forgot the script (restart, SCRIPT FLUSH): the add loads it again.
    await redis.script('FLUSH');
    res = await add();
    expect(res.status).toBe(200);
    expect(res.body.totalQuantity).toBe(3);

    await proxy.set('blackhole');
    const started = Date.now();
    const during = await Promise.all([add(), read(), add(), read()]);
    expect(Date.now() - started).toBeLessThan(APP_COMMAND_TIMEOUT_MS + 4000);
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: 'UNAVAILABLE', details: { dependency: 'redis' } });
    }
    await proxy.set('pass');
    await eventually(async () => ((await read()).status === 200 ? true : undefined), 15_000);
    res = await add();
    expect(res.status).toBe(200);
    // The adds refused during the fault added nothing.
    expect(res.body.totalQuantity).toBe(4);
  }, 60_000);
});
