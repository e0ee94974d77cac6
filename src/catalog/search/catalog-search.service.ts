import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { TwoLevelCache } from '../../infra/cache/two-level-cache.service';
import { AppConfig, runsHttp } from '../../infra/config/app-config';
import { MetricsService } from '../../infra/observability/metrics.service';
import { CatalogRepository, SearchDocRow } from '../catalog.repository';
import type { ListingPage } from '../catalog.types';
import type { BuiltQuery, ListingParams } from '../listing-query';
import { ProductSearchIndex } from './product-search-index';

/** Products read per statement while loading and while catching up. */
const BATCH = 5000;
/** How often the index looks for products changed without a broadcast reaching it. */
export const SEARCH_POLL_MS = 1000;
/**
 * Each look starts this far before the newest change it has seen: a transaction stamps
 * updated_at when its statement runs, not when it commits, so a change may become visible with a
 * time older than one already seen. Rows in the window whose time the index already has are not
 * read again.
 */
export const SEARCH_OVERLAP_MS = 30_000;
/** Retry delays of a failed load (doubling up to the last). */
const LOAD_RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

type Engine = 'memory' | 'fulltext';

/**
 * The search port of decision 0032. With CATALOG_SEARCH=memory every API instance holds a
 * {@link ProductSearchIndex} of the active products: loaded from the primary at start (in the
 * background — until it is loaded, FULLTEXT answers), then kept current three ways:
 * - this instance's own writes: {@link refresh} after the commit, before the answer;
 * - other instances' writes: the cache invalidation broadcast names the product, which is re-read;
 * - anything a broadcast missed (Redis away, a write from outside the app): every
 *   {@link SEARCH_POLL_MS} the products changed since the last look (updated_at) are re-read.
 * Every re-read is of the primary, so a replica's lag never reaches the index, and a re-read
 * older than what the index holds is dropped (updated_at). {@link page} answers a listing with
 * text from memory or declines (undefined), and then the FULLTEXT statement answers.
 */
@Injectable()
export class CatalogSearch implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('CatalogSearch');
  private readonly index = new ProductSearchIndex();
  /** The updated_at the index holds per product id (any status), so nothing is applied twice or out of order. */
  private readonly seenAt = new Map<string, number>();
  private readonly searches: Counter<'engine'>;
  private loaded = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  /** The signature of the row the index holds per product id (see apply). */
  private readonly seenSig = new Map<string, number>();
  /** The database's clock when the load began (kept across retries). */
  private loadSince?: Date;
  /** The database's clock at the start of the previous look (or of the load). */
  private lastLook = new Date(0);
  private polling = false;
  private pollFailing = false;
  private readonly queued = new Set<string>();
  private flushing?: Promise<void>;

  constructor(
    private readonly config: AppConfig,
    private readonly repo: CatalogRepository,
    private readonly cache: TwoLevelCache,
    metrics: MetricsService,
  ) {
    this.searches = metrics.counter(
      'shop_catalog_searches_total',
      'Listing pages with text, by the engine that answered (memory: the in-process index; fulltext: MySQL)',
      ['engine'],
    );
    const index = this.index;
    metrics.gauge(
      'shop_catalog_search_index_products',
      'Active products in this instance’s in-process search index (0 while it loads or with CATALOG_SEARCH=fulltext)',
      [],
      function () {
        this.set(index.size);
      },
    );
  }

  get engine(): Engine {
    return this.config.catalog.search;
  }

  /** True once the in-process index is loaded and answering. */
  get ready(): boolean {
    return this.loaded;
  }

  onApplicationBootstrap(): void {
    if (this.engine !== 'memory' || !runsHttp(this.config.role)) return;
    this.cache.onInvalidated((keys) => {
      for (const k of keys) if (k.startsWith('product:')) this.queued.add(k.slice(8));
      // flush never rejects: refresh catches and logs, the next look retries.
      if (this.queued.size) void this.flush();
    });
    // In the background (FULLTEXT answers until it is done); load catches, logs and retries itself.
    void this.load(0);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * The page of a listing with text from the index, or undefined when the index cannot answer
   * it (not loaded, CATALOG_SEARCH=fulltext, an inStock filter, no text): FULLTEXT answers then.
   * Counts the page under the engine that answers it (FULLTEXT's through {@link countFulltext}).
   */
  page(q: BuiltQuery, p: ListingParams): ListingPage | undefined {
    if (!this.loaded || !q.words || p.inStock) return undefined;
    this.searches.inc({ engine: 'memory' });
    return this.index.page(q, p);
  }

  countFulltext(): void {
    this.searches.inc({ engine: 'fulltext' });
  }

  /**
   * Re-reads these products from the primary into the index (after a write of this instance
   * committed, before it answers). Never fails: a failed read leaves them to the next look.
   */
  async refresh(ids: string[]): Promise<void> {
    if (!this.loaded) return;
    try {
      const rows = await this.repo.searchDocs(ids);
      this.apply(rows);
      // A product row deleted outside the app (there is no delete in the app): gone from search too.
      const found = new Set(rows.map((r) => r.id));
      for (const id of ids)
        if (!found.has(id)) {
          this.index.remove(id);
          this.seenAt.delete(id);
          this.seenSig.delete(id);
        }
    } catch (err) {
      this.logger.warn(
        `search index: products not re-read (the next look retries): ${(err as Error).message}`,
      );
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  private async load(attempt: number): Promise<void> {
    try {
      const started = Date.now();
      // The first attempt's clock, kept by retries: the first look then covers every change since
      // the first rows were read, archived products included (a retry reads only active ones).
      const since = (this.loadSince ??= await this.repo.clock());
      for (let after = ''; ;) {
        const rows = await this.repo.activeSearchDocs(after, BATCH);
        this.apply(rows);
        if (rows.length < BATCH || this.stopped) break;
        after = rows[rows.length - 1].id;
      }
      this.index.mergePending();
      this.lastLook = since;
      this.loaded = true;
      // Products named by broadcasts while it loaded (flush waits for the load).
      void this.flush(); // never rejects: refresh catches and logs
      this.logger.log(
        `search index loaded: ${this.index.size} active products, ${this.index.vocabulary} words, in ${Date.now() - started} ms`,
      );
      this.schedule(SEARCH_POLL_MS);
    } catch (err) {
      if (this.stopped) return;
      const wait = LOAD_RETRY_MS[Math.min(attempt, LOAD_RETRY_MS.length - 1)];
      this.logger.warn(
        `search index not loaded (FULLTEXT answers; retry in ${wait} ms): ${(err as Error).message}`,
      );
      // load catches its own failures (this branch) and schedules the next attempt.
      this.timer = setTimeout(() => void this.load(attempt + 1), wait).unref();
    }
  }

  private schedule(ms: number): void {
    // poll catches and logs its own failures, then schedules the next look.
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), ms).unref();
  }

  /**
   * One look: the products changed since the database's clock at the previous look (less the
   * overlap) whose change the index lacks. Anchored to the database's clock, not to the rows'
   * times, so the window is always the last ~31 s: a bulk change is re-listed for 30 s, not until
   * the next write, and a row stamped in the future cannot blind it.
   */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const now = await this.repo.clock();
      let since = new Date(this.lastLook.getTime() - SEARCH_OVERLAP_MS);
      for (let after = ''; ;) {
        const rows = await this.repo.changedProducts(since, after, BATCH);
        const stale = rows.filter((r) => this.seenAt.get(r.id) !== new Date(r.updated_at).getTime());
        for (let i = 0; i < stale.length; i += 500)
          this.apply(await this.repo.searchDocs(stale.slice(i, i + 500).map((r) => r.id)));
        if (rows.length < BATCH) break;
        const last = rows[rows.length - 1];
        since = new Date(last.updated_at);
        after = last.id;
      }
      this.lastLook = now;
      if (this.pollFailing) this.logger.log('search index: looking for changes again');
      this.pollFailing = false;
    } catch (err) {
      if (!this.pollFailing)
        this.logger.warn(
          `search index: changes not read (retrying every ${SEARCH_POLL_MS} ms): ${(err as Error).message}`,
        );
      this.pollFailing = true;
    } finally {
      this.polling = false;
      this.schedule(SEARCH_POLL_MS);
    }
  }

  /** Re-reads the products named by broadcasts, a batch at a time. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const drain = async () => {
      while (this.queued.size && this.loaded) {
        const ids = [...this.queued].slice(0, 500);
        for (const id of ids) this.queued.delete(id);
        await this.refresh(ids);
      }
    };
    // Cleared in a later microtask, after the assignment (an empty queue finishes synchronously).
    this.flushing = drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /**
   * Applies re-read rows: active ones (re)enter the index, others leave it. A read older than
   * what the index holds (updated_at) is dropped, and so is one identical to it (the writer's own
   * broadcast after its refresh): each would only leave a dead slot behind.
   */
  private apply(rows: SearchDocRow[]): void {
    for (const r of rows) {
      const at = new Date(r.updated_at).getTime();
      const held = this.seenAt.get(r.id);
      if (held !== undefined && held > at) continue;
      const sig = signature(r);
      if (held === at && this.seenSig.get(r.id) === sig) continue;
      if (r.status !== 'active') this.index.remove(r.id);
      else
        this.index.upsert({
          row: {
            id: r.id,
            name: r.name,
            slug: r.slug,
            brand: r.brand,
            category_id: r.category_id,
            min_price: Number(r.min_price),
            currency: r.currency,
            created_at: r.created_at,
          },
          description: r.description,
          categoryIds: r.category_ids ? r.category_ids.split(',') : [],
        });
      // Only once applied: a product whose upsert threw is read again by the next look.
      this.seenAt.set(r.id, at);
      this.seenSig.set(r.id, sig);
    }
    this.index.maintain();
  }
}

/** A 32-bit FNV-1a hash of everything of a row the index holds (equal rows, equal signatures). */
function signature(r: SearchDocRow): number {
  const text = `${r.status}\u0000${r.name}\u0000${r.slug}\u0000${r.brand}\u0000${r.category_id}\u0000${r.min_price}\u0000${r.currency}\u0000${new Date(r.created_at).getTime()}\u0000${r.description}\u0000${r.category_ids}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
