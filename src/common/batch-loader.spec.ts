import { BatchLoader, BatchWriter } from './batch-loader';

describe('BatchLoader', () => {
  it('answers loads made together with one loadMany call, each its own value', async () => {
    const calls: string[][] = [];
    const loader = new BatchLoader<string, number>(
      async (keys) => {
        calls.push(keys);
        return new Map(keys.filter((k) => k !== 'x').map((k) => [k, k.length]));
      },
      { max: 10, delayMs: 5 },
    );
    const got = await Promise.all(['a', 'bb', 'a', 'x'].map((k) => loader.load(k)));
    expect(got).toEqual([1, 2, 1, undefined]);
    expect(calls).toEqual([['a', 'bb', 'x']]);
  });

  it('flushes at `max` keys without waiting, and rejects every caller of a failed batch', async () => {
    const calls: number[][] = [];
    const loader = new BatchLoader<number, number>(
      async (keys) => {
        calls.push(keys);
        if (keys.includes(3)) throw new Error('down');
        return new Map(keys.map((k) => [k, k * 2]));
      },
      { max: 2, delayMs: 60_000 },
    );
    const first = await Promise.all([loader.load(1), loader.load(2)]);
    expect(first).toEqual([2, 4]);
    const failed = [loader.load(3), loader.load(4)];
    await expect(failed[0]).rejects.toThrow('down');
    await expect(failed[1]).rejects.toThrow('down');
    expect(calls).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('BatchWriter', () => {
  it('writes items made together in one call, once each, and fails every writer of a failed call', async () => {
    const calls: string[][] = [];
    const writer = new BatchWriter<string>(
      async (items) => {
        calls.push(items);
        if (items.includes('bad')) throw new Error('down');
      },
      { max: 3, delayMs: 5 },
    );
    await Promise.all(['a', 'b', 'a'].map((k) => writer.write(k)));
    expect(calls).toEqual([['a', 'b']]);
    const failed = await Promise.allSettled([writer.write('c'), writer.write('bad')]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toEqual([
      ['a', 'b'],
      ['c', 'bad'],
    ]);
  });
});
