import { randomBytes } from 'node:crypto';
import { newId } from '../../src/common/ids';
import { PURCHASE, FlashSaleStore } from '../../src/flash-sale/testing';
import { loadConfig } from '../../src/infra/config/app-config';
import { RedisService } from '../../src/infra/redis/redis.service';

/** The Lua scripts against the real Redis: the invariants the purchase path relies on. */
describe('flash sale: Lua scripts', () => {
  let redis: RedisService;
  let store: FlashSaleStore;

  beforeAll(async () => {
    // Under the run's prefix, so the global teardown removes these keys too.
    const prefix = `${process.env.REDIS_PREFIX ?? `t${randomBytes(4).toString('hex')}`}:lua`;
    redis = new RedisService(loadConfig({ ...process.env, REDIS_PREFIX: prefix }));
    await redis.waitReady();
    store = new FlashSaleStore(redis);
  });
  afterAll(async () => {
    await redis.onModuleDestroy();
  });

  const open = async (quantity: number, perUserLimit = 1, startsIn = -1000, endsIn = 60_000) => {
    const id = newId();
    await store.init(id, {
      quantity,
      perUserLimit,
      startsAt: new Date(Date.now() + startsIn),
      endsAt: new Date(Date.now() + endsIn),
    });
    return id;
  };

  it('never sells more than the stock nor more than the per-user limit under concurrency', async () => {
    const id = await open(50, 2);
    const users = Array.from({ length: 40 }, () => newId());
    const calls = users.flatMap((u) => Array.from({ length: 4 }, () => store.purchase(id, u, newId())));
    const res = await Promise.all(calls);
    expect(res.filter((r) => r.code === PURCHASE.RESERVED)).toHaveLength(50);
    expect(res.filter((r) => r.code === PURCHASE.RESERVED && r.stockLeft === 0)).toHaveLength(1);
    expect(
      res.every(
        (r) =>
          r.code === PURCHASE.RESERVED || r.code === PURCHASE.SOLD_OUT || r.code === PURCHASE.LIMIT_REACHED,
      ),
    ).toBe(true);
    const perUser = new Map<string, number>();
    for (const u of users) perUser.set(u, (await store.userCounts(id, u)).held);
    expect([...perUser.values()].every((n) => n <= 2)).toBe(true);
    expect((await store.streamStats(id)).length).toBe(50);
    expect(await store.totalHeld(id)).toBe(50);
    expect((await store.state(id))?.stock).toBe(0);
    expect(await store.isSoldOut(id)).toBe(true);
  });

  it('refuses outside the window, and reports missing keys distinctly', async () => {
    const before = await open(5, 1, 60_000, 120_000);
    expect((await store.purchase(before, newId(), newId())).code).toBe(PURCHASE.NOT_ACTIVE);
    expect((await store.purchase(newId(), newId(), newId())).code).toBe(PURCHASE.MISSING);
  });

  it('counts attempts per user and sale in the same round trip: past the budget, RATE_LIMITED with the time to reset, nothing taken', async () => {
    const id = await open(10, 1);
    const bot = newId();
    const budget = { limit: 3, windowMs: 60_000 };
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push(await store.purchase(id, bot, newId(), budget));
    expect(codes.map((r) => r.code)).toEqual([
      PURCHASE.RESERVED,
      PURCHASE.LIMIT_REACHED,
      PURCHASE.LIMIT_REACHED,
      PURCHASE.RATE_LIMITED,
      PURCHASE.RATE_LIMITED,
    ]);
    expect(codes[4].retryAfterMs).toBeGreaterThan(0);
    expect(codes[4].retryAfterMs).toBeLessThanOrEqual(60_000);
    // Rate-limited calls took nothing; another user still buys, and the same bot on another sale is not limited.
    expect((await store.state(id))?.stock).toBe(9);
    expect((await store.purchase(id, newId(), newId(), budget)).code).toBe(PURCHASE.RESERVED);
    expect((await store.purchase(await open(1, 1), bot, newId(), budget)).code).toBe(PURCHASE.RESERVED);
    expect((await store.streamStats(id)).length).toBe(2);
  });

  it('gives a unit back once per order, lets the user buy again with a new n, and sends it to inventory after close', async () => {
    const id = await open(1, 1);
    const user = newId();
    const first = await store.purchase(id, user, newId());
    expect(first).toMatchObject({ code: PURCHASE.RESERVED, n: 1, stockLeft: 0 });
    expect((await store.purchase(id, newId(), newId())).code).toBe(PURCHASE.SOLD_OUT);
    const orderId = newId();
    expect(await store.returnUnit(id, user, orderId)).toEqual({ code: 0, where: 'sale' });
    expect(await store.returnUnit(id, user, orderId)).toEqual({ code: 1, where: 'sale' });
    expect((await store.state(id))?.stock).toBe(1);
    expect(await store.isSoldOut(id)).toBe(false);
    const again = await store.purchase(id, user, newId());
    expect(again).toMatchObject({ code: PURCHASE.RESERVED, n: 2 });

    expect(await store.close(id)).toEqual({ code: 0, remaining: 0 });
    expect(await store.close(id)).toEqual({ code: 1, remaining: 0 });
    expect((await store.purchase(id, newId(), newId())).code).toBe(PURCHASE.NOT_ACTIVE);
    const secondOrder = newId();
    expect(await store.returnUnit(id, user, secondOrder)).toEqual({ code: 0, where: 'inventory' });
    const st = (await store.state(id))!;
    expect(st).toMatchObject({ stock: 0, closed: true, closedStock: 0, returnedAfterClose: 1 });
    const s = await store.streamStats(id);
    // conservation: stock + closedStock + returnedAfterClose + live reservations = quantity
    expect(st.stock + st.closedStock + st.returnedAfterClose + (s.length - s.returned)).toBe(1);
  });

  it('fences a sale not built under this Redis process: paused (nothing sold, returned or closed) until a rebuild commits with its token and complete staging', async () => {
    const id = await open(5, 1);
    const buyer = newId();
    expect((await store.purchase(id, buyer, newId())).code).toBe(PURCHASE.RESERVED);
    // Created under this process: stamped with its run_id.
    expect(await store.fence(id)).toBe('ok');
    // As if the data came from another process (an older copy, a promoted replica).
    await redis.client.hset(store.keys(id).state, 'runId', 'another-process');
    expect(await store.fence(id)).toBe('paused');
    expect(await store.fence(id)).toBe('was-paused');
    expect((await store.purchase(id, newId(), newId())).code).toBe(PURCHASE.PAUSED);
    expect((await store.returnUnit(id, buyer, newId())).code).toBe(-2);
    expect((await store.close(id)).code).toBe(-2);
    expect((await store.state(id))?.paused).toBe(true);

    expect(await store.pause(id, 'mine')).toBe(true);
    const rebuilt = {
      stock: 3,
      quantity: 5,
      startsAt: Date.now() - 1000,
      endsAt: Date.now() + 60_000,
      limit: 1,
      closed: false,
      closedStock: 0,
      returnedAfterClose: 0,
      base: 1,
      epoch: 7,
    };
    await store.stage(
      id,
      new Map([
        [buyer, 1],
        [newId(), 1],
      ]),
      new Map([[buyer, 3]]),
      new Map(),
    );
    expect(await store.commitRebuild(id, 'not-mine', rebuilt, { held: 2, seq: 1, returned: 0 })).toBe(-1);
    expect(await store.commitRebuild(id, 'mine', rebuilt, { held: 3, seq: 1, returned: 0 })).toBe(-2);
    expect(await store.commitRebuild(id, 'mine', rebuilt, { held: 2, seq: 1, returned: 0 })).toBe(0);
    expect(await store.state(id)).toMatchObject({ stock: 3, paused: false, epoch: 7, base: 1 });
    expect(await store.fence(id)).toBe('ok');
    expect(await store.totalHeld(id)).toBe(2);
    expect((await store.purchase(id, buyer, newId())).code).toBe(PURCHASE.LIMIT_REACHED);
    // The sequence went on from the rebuilt one, and the epoch comes back with the reservation.
    const next = await store.purchase(id, newId(), newId());
    expect(next).toMatchObject({ code: PURCHASE.RESERVED, stockLeft: 2, epoch: 7 });
    await store.seqAtLeast(id, new Map([[buyer, 5]]));
    await store.seqAtLeast(id, new Map([[buyer, 4]]));
    expect((await store.userCounts(id, buyer)).seq).toBe(5);
    // A sale without any state: nothing to pause, and a rebuild may create it.
    const gone = newId();
    expect(await store.pause(gone, 'x')).toBe(false);
    expect(await store.fence(gone)).toBe('missing');
  });
});
