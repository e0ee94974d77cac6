import type { DbRouter } from '../infra/database/db-router.service';
import type { RedisService } from '../infra/redis/redis.service';
import { FlashSaleDefinitions, SALE_CREATED_CHANNEL } from './flash-sale-definitions';
import type { FlashSale } from './flash-sale.entity';
import type { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSaleRepository } from './flash-sale.repository';

describe('FlashSaleDefinitions: unknown ids', () => {
  const rows = new Map<string, FlashSale>();
  let lookups = 0;
  const repo = {
    findOneBy: async ({ id }: { id: string }) => {
      lookups++;
      return rows.get(id) ?? null;
    },
  };
  const em = { getRepository: () => repo };
  const db = {
    read: async (fn: (e: unknown) => unknown) => fn(em),
    primaryReader: () => em,
  } as unknown as DbRouter;
  const handlers = new Map<string, (m: string) => void>();
  const redis = {
    subscribe: async (ch: string, h: (m: string) => void) => void handlers.set(ch, h),
  } as unknown as RedisService;
  const counted: string[] = [];
  const metrics = {
    definitionReads: { inc: ({ found }: { found: string }) => void counted.push(found) },
  } as unknown as FlashSaleMetrics;

  beforeEach(() => {
    rows.clear();
    lookups = 0;
    counted.length = 0;
  });

  it('looks an unknown id up once (replica, then primary), then answers from memory', async () => {
    const defs = new FlashSaleDefinitions(new FlashSaleRepository(db), redis, metrics);
    expect(await defs.find('u1')).toBeUndefined();
    expect(lookups).toBe(2);
    expect(defs.isKnownUnknown('u1')).toBe(true);
    for (let i = 0; i < 10; i++) expect(await defs.find('u1')).toBeUndefined();
    expect(lookups).toBe(2);
    expect(counted).toEqual(['false']);
    expect(defs.isKnownUnknown('u2')).toBe(false);
  });

  it('forgets an unknown id when a sale with it is created here or on another instance', async () => {
    const defs = new FlashSaleDefinitions(new FlashSaleRepository(db), redis, metrics);
    await defs.onModuleInit();
    await defs.find('a');
    await defs.find('b');
    rows.set('a', { id: 'a' } as FlashSale);
    rows.set('b', { id: 'b' } as FlashSale);
    defs.remember(rows.get('a')!);
    expect(defs.isKnownUnknown('a')).toBe(false);
    expect(await defs.find('a')).toEqual({ id: 'a' });
    handlers.get(SALE_CREATED_CHANNEL)!('b');
    expect(defs.isKnownUnknown('b')).toBe(false);
    expect(await defs.find('b')).toEqual({ id: 'b' });
  });
});
