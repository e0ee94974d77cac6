import { SoldOutFlags } from './sold-out-flags';
import type { RedisService } from '../infra/redis/redis.service';

describe('SoldOutFlags', () => {
  const published: [string, string][] = [];
  const handlers = new Map<string, (m: string) => void>();
  const redis = {
    publish: async (ch: string, m: string) => void published.push([ch, m]),
    subscribe: async (ch: string, h: (m: string) => void) => void handlers.set(ch, h),
  } as unknown as RedisService;

  afterEach(() => jest.useRealTimers());

  it('answers from memory once raised, for a bounded time', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const flags = new SoldOutFlags(redis);
    expect(flags.isSoldOut('s1')).toBe(false);
    flags.raise('s1');
    expect(flags.isSoldOut('s1')).toBe(true);
    expect(flags.isSoldOut('s2')).toBe(false);
    jest.setSystemTime(1_000_000 + 3001);
    expect(flags.isSoldOut('s1')).toBe(false);
  });

  it('broadcasts sold-out and restock, and applies broadcasts from other instances', async () => {
    const flags = new SoldOutFlags(redis);
    await flags.onModuleInit();
    await flags.broadcastSoldOut('s1');
    expect(published).toContainEqual(['flash-sale:sold-out', 's1']);
    const other = [...handlers.entries()];
    other.find(([ch]) => ch === 'flash-sale:sold-out')![1]('s9');
    expect(flags.isSoldOut('s9')).toBe(true);
    other.find(([ch]) => ch === 'flash-sale:restock')![1]('s9');
    expect(flags.isSoldOut('s9')).toBe(false);
    await flags.broadcastRestock('s1');
    expect(flags.isSoldOut('s1')).toBe(false);
  });
});
