import { CachedTable, TableRepository } from './cached-table';
import type { TwoLevelCache } from './two-level-cache.service';

interface Input {
  name: string;
  rank?: number;
}
interface View extends Input {
  id: string;
}
type Row = Required<Input>;

class NotFound extends Error {}

const ID = '0193a6a4-2f0e-7c41-9b1e-5d0c3f7a9e21';

function setup(rows: View[] = []) {
  const table = new Map(rows.map((r) => [r.id, r]));
  const writes: string[] = [];
  const repo: TableRepository<View, Row> = {
    all: () => Promise.resolve([...table.values()]),
    findById: (id) => Promise.resolve(table.get(id)),
    insert: (id, row) => Promise.resolve(void table.set(id, { id, ...row })),
    update: (id, row) => Promise.resolve(table.set(id, { id, ...row })),
    delete: (id) => Promise.resolve(table.delete(id)),
  };
  const cache = {
    get: jest.fn(async (_key: string, _ttl: unknown, load: (ctx: { read: unknown }) => Promise<unknown>) => {
      const value = await load({ read: (fn: (em: unknown) => Promise<unknown>) => fn({}) });
      return value === undefined ? null : JSON.stringify(value);
    }),
    afterWrite: jest.fn(async (w: { keys: string[] }) => void writes.push(...w.keys)),
  };
  const t = new CachedTable<View, Input, Row>(cache as unknown as TwoLevelCache, {
    key: 'things',
    ttl: { l1Ms: 1, l2Ms: 1, negativeMs: 1 },
    check: (i) => {
      if (!i.name) throw new Error('name required');
      return { name: i.name.trim(), rank: i.rank ?? 0 };
    },
    notFound: () => new NotFound(),
    repo,
  });
  return { t, table, writes, cache };
}

describe('CachedTable', () => {
  it('reads the whole table through the cache under its key', async () => {
    const { t, cache } = setup([{ id: ID, name: 'a', rank: 1 }]);
    expect(await t.all()).toEqual([{ id: ID, name: 'a', rank: 1 }]);
    expect(cache.get.mock.calls[0][0]).toBe('things');
  });

  it('creates a checked row, invalidates the key after the write and answers the stored row', async () => {
    const { t, table, writes } = setup();
    const created = await t.create({ name: ' b ' });
    expect(created).toEqual({ id: expect.any(String), name: 'b', rank: 0 });
    expect(table.get(created.id)).toEqual(created);
    expect(writes).toEqual(['things']);
    await expect(t.create({ name: '' })).rejects.toThrow('name required');
    expect(writes).toEqual(['things']);
  });

  it('updates by applying the defined fields of a patch over the current row, checked whole', async () => {
    const { t, writes } = setup([{ id: ID, name: 'a', rank: 1 }]);
    expect(await t.update(ID, { rank: 5, name: undefined })).toEqual({ id: ID, name: 'a', rank: 5 });
    expect(writes).toEqual(['things']);
  });

  it('answers notFound for an unknown or malformed id, writing nothing', async () => {
    const { t, writes } = setup([{ id: ID, name: 'a', rank: 1 }]);
    await expect(t.update('not-a-uuid', { rank: 2 })).rejects.toBeInstanceOf(NotFound);
    await expect(t.update(ID.replace('1', '2'), { rank: 2 })).rejects.toBeInstanceOf(NotFound);
    await expect(t.delete('not-a-uuid')).rejects.toBeInstanceOf(NotFound);
    await expect(t.delete(ID.replace('1', '2'))).rejects.toBeInstanceOf(NotFound);
    expect(writes).toEqual([]);
    await t.delete(ID);
    expect(writes).toEqual(['things']);
    expect(await t.all()).toEqual([]);
  });
});
