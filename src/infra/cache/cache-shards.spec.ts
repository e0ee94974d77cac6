import type { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Counter } from 'prom-client';
import { CLUSTER_CACHE_SHARDS, CacheShards, newestFence, shardOf } from './cache-shards';

const key = (...parts: string[]) => ['nc', ...parts].join(':');

describe('CacheShards', () => {
  it('keeps the key names of a single Redis (one shard, no tag)', () => {
    const s = new CacheShards(key, 1, 7000);
    expect(s.tags).toEqual(['']);
    expect(s.fenceKeys).toEqual(['nc:cache:fence']);
    expect(s.budgetKeys).toEqual(['nc:cache:budget']);
    expect(s.allowance).toBe(7000);
    expect(s.l2Key('product:g0:42')).toBe('nc:cache:product:g0:42');
    expect(s.shardOfL2Key('nc:cache:product:g0:42')).toBe(0);
  });

  it('on a cluster tags every key with its shard and puts fence and budget copies in each slot', () => {
    const s = new CacheShards(key, CLUSTER_CACHE_SHARDS, 16_000 + 15);
    expect(s.tags).toHaveLength(16);
    expect(s.fenceKeys[3]).toBe('nc:cache:{c3}:fence');
    expect(s.budgetKeys[15]).toBe('nc:cache:{c15}:budget');
    expect(s.allowance).toBe(1000);
    const full = 'product:g2:abc';
    const l2 = s.l2Key(full);
    const n = shardOf(full, 16);
    expect(l2).toBe(`nc:cache:{c${n}}:${full}`);
    expect(s.shardOfL2Key(l2)).toBe(n);
  });

  it('hashes keys with FNV-1a into every shard, deterministically', () => {
    expect(shardOf('anything', 1)).toBe(0);
    expect(shardOf('a', 16)).toBe(0xe40c292c % 16); // FNV-1a 32 of "a"
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const n = shardOf(`product:g0:${i}`, 16);
      expect(n).toBe(shardOf(`product:g0:${i}`, 16));
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(16);
      seen.add(n);
    }
    expect(seen.size).toBe(16);
  });

  it('takes the newest of the fence copies', () => {
    expect(newestFence([null, undefined])).toBeNull();
    expect(newestFence([null, '3|a:1-3', '7|a:1-9', '', '5|a:1-5'])).toBe('7|a:1-9');
  });

  describe('del', () => {
    const s = new CacheShards(key, CLUSTER_CACHE_SHARDS, 16_000);
    const keysIn = (shard: number, count: number): string[] => {
      const out: string[] = [];
      for (let i = 0; out.length < count; i++) {
        const full = `product:g0:${i}`;
        if (shardOf(full, 16) === shard) out.push(s.l2Key(full));
      }
      return out;
    };
    const fakes = () => {
      const inc = jest.fn();
      const warn = jest.fn();
      return {
        deletes: { inc } as unknown as Counter<string>,
        logger: { warn } as unknown as Logger,
        inc,
        warn,
      };
    };

    it('sends one DEL per shard and counts the deleted entries', async () => {
      const a = keysIn(2, 3);
      const b = keysIn(9, 2);
      const calls: string[][] = [];
      const l2 = { del: (...k: string[]) => (calls.push(k), Promise.resolve(k.length)) } as unknown as Redis;
      const f = fakes();
      const err = await s.del(l2, [a[0], b[0], a[1], b[1], a[2]], 1000, f.deletes, f.logger);
      expect(err).toBeUndefined();
      expect(calls).toEqual([a, b]);
      expect(f.inc.mock.calls).toEqual([
        [{ result: 'deleted' }, 3],
        [{ result: 'deleted' }, 2],
      ]);
      expect(f.warn).not.toHaveBeenCalled();
    });

    it('counts and logs a failed group, deletes the others, and returns the error', async () => {
      const a = keysIn(4, 2);
      const b = keysIn(11, 1);
      const l2 = {
        del: (...k: string[]) =>
          k[0] === a[0] ? Promise.reject(new Error('CLUSTERDOWN')) : Promise.resolve(k.length),
      } as unknown as Redis;
      const f = fakes();
      const err = await s.del(l2, [...a, ...b], 1000, f.deletes, f.logger);
      expect(err?.message).toBe('CLUSTERDOWN');
      expect(f.inc.mock.calls).toEqual([
        [{ result: 'failed' }, 2],
        [{ result: 'deleted' }, 1],
      ]);
      expect(f.warn).toHaveBeenCalledWith(
        `L2 delete failed for 2 of 3 entries (${a[0]}, ${a[1]}): CLUSTERDOWN`,
      );
    });
  });
});
