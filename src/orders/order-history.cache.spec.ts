import type { RedisService } from '../infra/redis/redis.service';
import { transactionStub } from '../../test/support/unit-stubs';
import { OrderHistoryCache } from './order-history.cache';

/** A Redis port: GET/SET on a map, or failing when `down`. */
function redisStub() {
  const data = new Map<string, string>();
  const state = { down: false, sets: 0 };
  const fail = () => Promise.reject(new Error('Connection is closed.'));
  const redis = {
    lane: undefined,
    key: (...parts: string[]) => ['test', ...parts].join(':'),
    client: {
      get: (k: string) => (state.down ? fail() : Promise.resolve(data.get(k) ?? null)),
      set: (k: string, v: string) => {
        state.sets++;
        if (state.down) return fail();
        data.set(k, v);
        return Promise.resolve('OK');
      },
    },
  } as unknown as RedisService;
  return { redis, state };
}

describe('OrderHistoryCache', () => {
  afterEach(() => jest.useRealTimers());

  it('serves a page only under the version it was stored with; a committed change moves the version', async () => {
    const { redis } = redisStub();
    const { db } = transactionStub();
    const cache = new OrderHistoryCache(redis, db);
    const v0 = await cache.version('u1');
    expect(v0).toBe('');
    cache.store('u1', v0!, 20, '{"items":[]}');
    expect(cache.page('u1', v0!, 20)).toBe('{"items":[]}');
    expect(cache.page('u1', v0!, 10)).toBeUndefined(); // another page size is another page
    expect(cache.page('u2', v0!, 20)).toBeUndefined(); // another customer

    await db.transaction(async () => cache.changed(['u1', 'u1']));
    const v1 = await cache.version('u1');
    expect(v1).not.toBe(v0);
    expect(cache.page('u1', v1!, 20)).toBeUndefined();
    expect(cache.page('u1', v0!, 20)).toBeUndefined(); // this instance dropped it too
    expect(await cache.version('u2')).toBe(''); // untouched
  });

  it('moves nothing when the transaction rolls back', async () => {
    const { redis, state } = redisStub();
    const { db } = transactionStub();
    const cache = new OrderHistoryCache(redis, db);
    await expect(
      db.transaction(async () => {
        cache.changed(['u1']);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(state.sets).toBe(0);
  });

  it('without Redis: no version (the caller reads the database), and a failed move is retried', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { redis, state } = redisStub();
    const { db } = transactionStub();
    const cache = new OrderHistoryCache(redis, db);
    cache.store('u1', '', 20, 'old');
    state.down = true;
    expect(await cache.version('u1')).toBeUndefined();
    await db.transaction(async () => cache.changed(['u1'])); // the hook fails, the commit stands
    expect(cache.page('u1', '', 20)).toBeUndefined(); // dropped here at once
    expect(state.sets).toBe(1);
    state.down = false;
    await jest.advanceTimersByTimeAsync(1000);
    expect(state.sets).toBe(2);
    expect(await cache.version('u1')).not.toBe(''); // moved once Redis answered
  });
});
