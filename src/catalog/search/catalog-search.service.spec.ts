import { TwoLevelCache } from '../../infra/cache/two-level-cache.service';
import { AppConfig } from '../../infra/config/app-config';
import { MetricsService } from '../../infra/observability/metrics.service';
import { automock } from '../../../test/support/unit-stubs';
import { CatalogRepository, SearchDocRow } from '../catalog.repository';
import { ListingParams, buildListingQuery } from '../listing-query';
import { CatalogSearch, SEARCH_OVERLAP_MS, SEARCH_POLL_MS } from './catalog-search.service';

const id = (n: number) => `01936f0e-0000-7000-8000-${String(n).padStart(12, '0')}`;

/**
 * The products table as the index's reads see it, with the database's clock: a stub of the
 * repository port whose four reads answer from it (the statements themselves are exercised by
 * test/catalog/search-engines.e2e-spec.ts against MySQL).
 */
class Table {
  now = Date.UTC(2026, 11, 7, 12, 0, 0);
  rows = new Map<string, SearchDocRow>();
  failNext = 0;
  reads = { changed: 0, docs: 0 };

  put(n: number, name: string, patch: Partial<SearchDocRow> = {}, at = this.now): void {
    this.rows.set(id(n), {
      id: id(n),
      name,
      slug: `p-${n}`,
      brand: null,
      category_id: null,
      min_price: 1000,
      currency: 'EUR',
      created_at: new Date(Date.UTC(2026, 0, 1)),
      description: null,
      status: 'active',
      category_ids: null,
      ...this.rows.get(id(n)),
      ...(this.rows.has(id(n)) ? { name } : {}),
      ...patch,
      updated_at: new Date(at),
    });
  }

  repo(): jest.Mocked<CatalogRepository> {
    const repo = automock(CatalogRepository);
    const maybeFail = () => {
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('primary unavailable');
      }
    };
    const sorted = () => [...this.rows.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    repo.clock.mockImplementation(async () => {
      maybeFail();
      return new Date(this.now);
    });
    repo.activeSearchDocs.mockImplementation(async (after, limit) => {
      maybeFail();
      return sorted()
        .filter((r) => r.id > after && r.status === 'active')
        .slice(0, limit);
    });
    repo.searchDocs.mockImplementation(async (ids) => {
      maybeFail();
      this.reads.docs += ids.length;
      return sorted().filter((r) => ids.includes(r.id));
    });
    repo.changedProducts.mockImplementation(async (since, after, limit) => {
      maybeFail();
      const rows = [...this.rows.values()]
        .filter((r) => r.updated_at >= since && (r.updated_at > since || r.id > after))
        .sort((a, b) => a.updated_at.getTime() - b.updated_at.getTime() || (a.id < b.id ? -1 : 1))
        .slice(0, limit)
        .map((r) => ({ id: r.id, updated_at: r.updated_at }));
      this.reads.changed += rows.length;
      return rows;
    });
    return repo;
  }
}

describe('CatalogSearch (the search port, decision 0032)', () => {
  let table: Table;
  let search: CatalogSearch;
  let broadcast: (keys: readonly string[]) => void;

  const build = () => {
    const cache = automock(TwoLevelCache);
    cache.onInvalidated.mockImplementation((l) => void (broadcast = l));
    const config = Object.assign(new AppConfig(), { role: 'all', catalog: { search: 'memory' } });
    search = new CatalogSearch(config, table.repo(), cache, new MetricsService());
  };
  const names = (q: string) => {
    const p: ListingParams = { q, sort: 'newest', limit: 100 };
    return search
      .page(
        buildListingQuery(p, (c) => c)!,
        p,
      )
      ?.items.map((i) => i.name);
  };
  /** Lets timers and the promises they start run. */
  const advance = async (ms: number) => {
    await jest.advanceTimersByTimeAsync(ms);
  };

  beforeEach(() => {
    jest.useFakeTimers();
    table = new Table();
  });
  afterEach(() => {
    search.onModuleDestroy();
    jest.useRealTimers();
  });

  it('declines until loaded, then answers from the products the load read', async () => {
    table.put(1, 'Red Kettle');
    table.put(2, 'Blue Kettle', { status: 'archived' });
    build();
    expect(names('kettle')).toBeUndefined(); // FULLTEXT answers meanwhile
    search.onApplicationBootstrap();
    await advance(0);
    expect(search.ready).toBe(true);
    expect(names('kettle')).toEqual(['Red Kettle']);
  });

  it('a load that failed halfway and retried still drops what was archived meanwhile, and applies the broadcasts it missed', async () => {
    for (let n = 1; n <= 3; n++) table.put(n, `Heater ${n}`);
    build();
    // The clock and the first batch succeed on the first attempt... then the primary fails.
    const repo = (search as unknown as { repo: jest.Mocked<CatalogRepository> }).repo;
    const firstBatch = repo.activeSearchDocs.getMockImplementation()!;
    repo.activeSearchDocs
      .mockImplementationOnce(async () => {
        throw new Error('primary unavailable');
      })
      .mockImplementation(firstBatch);
    search.onApplicationBootstrap();
    await advance(0);
    expect(search.ready).toBe(false);
    // Meanwhile: heater 2 archived (long before the retry), heater 3 renamed with a broadcast.
    table.now += 1000;
    table.put(2, 'Heater 2', { status: 'archived' });
    table.put(3, 'Heater three');
    broadcast([`product:${id(3)}`]);
    table.now += 60_000;
    await advance(1000); // the retry
    expect(search.ready).toBe(true);
    await advance(SEARCH_POLL_MS); // the first look covers the time since the first attempt
    expect(names('heater')?.sort()).toEqual(['Heater 1', 'Heater three']);
  });

  it('follows broadcasts, catches changes without one within a look, and drops rows deleted behind the app', async () => {
    table.put(1, 'Garden Hose');
    table.put(2, 'Garden Rake');
    build();
    search.onApplicationBootstrap();
    await advance(0);

    table.now += 10;
    table.put(1, 'Garden Hose Reel');
    broadcast([`product:${id(1)}`, 'price:SKU-1']);
    await advance(1);
    expect(names('reel')).toEqual(['Garden Hose Reel']);

    table.now += 10;
    table.put(2, 'Garden Shovel'); // no broadcast (Redis away)
    expect(names('shovel')).toEqual([]);
    await advance(SEARCH_POLL_MS);
    expect(names('shovel')).toEqual(['Garden Shovel']);

    table.rows.delete(id(2)); // deleted outside the app: a refresh naming it drops it
    await search.refresh([id(2)]);
    expect(names('garden')).toEqual(['Garden Hose Reel']);
  });

  it("looks back a window of the database's clock: a bulk change is read again for the overlap only", async () => {
    build();
    search.onApplicationBootstrap();
    await advance(0);
    for (let n = 1; n <= 50; n++) table.put(n, `Bulk ${n}`); // an import at `now`
    await advance(SEARCH_POLL_MS);
    expect(names('bulk')).toHaveLength(50);
    expect(table.reads.docs).toBe(50); // each changed product re-read once
    // Hours pass without a write: after the overlap the looks list nothing any more.
    table.reads.changed = 0;
    for (let i = 0; i < 5; i++) {
      table.now += SEARCH_OVERLAP_MS;
      await advance(SEARCH_POLL_MS);
    }
    table.reads.changed = 0;
    table.now += 3 * 3600_000;
    await advance(SEARCH_POLL_MS);
    await advance(SEARCH_POLL_MS);
    expect(table.reads.changed).toBe(0);
    expect(table.reads.docs).toBe(50);
  });

  it('drops a re-read older than what it holds, and one identical to it', async () => {
    table.put(1, 'Lamp');
    build();
    search.onApplicationBootstrap();
    await advance(0);
    const old: SearchDocRow = { ...table.rows.get(id(1))! };
    table.now += 10;
    table.put(1, 'Lamp Shade');
    await search.refresh([id(1)]);
    // An older read arriving late (a slow broadcast re-read) changes nothing.
    const repo = (search as unknown as { repo: jest.Mocked<CatalogRepository> }).repo;
    repo.searchDocs.mockResolvedValueOnce([old]);
    await search.refresh([id(1)]);
    expect(names('lamp')).toEqual(['Lamp Shade']);
    // The same row again leaves no dead slot behind.
    const index = (search as unknown as { index: { dead: number } }).index;
    const dead = index.dead;
    await search.refresh([id(1)]);
    expect(index.dead).toBe(dead);
  });
});
