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
  /** The newest updated_at seen by a look (or the clock when the load began). */
  private watermark = new Date(0);
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
      this.apply(await this.repo.searchDocs(ids));
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
      const since = await this.repo.clock();
      for (let after = ''; ;) {
        const rows = await this.repo.activeSearchDocs(after, BATCH);
        this.apply(rows);
        if (rows.length < BATCH || this.stopped) break;
        after = rows[rows.length - 1].id;
      }
      this.index.mergePending();
      this.watermark = since;
      this.loaded = true;
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

  /** One look: products changed since the watermark (less the overlap) whose change the index lacks. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      let since = new Date(this.watermark.getTime() - SEARCH_OVERLAP_MS);
      let newest = this.watermark;
      for (let after = ''; ;) {
        const rows = await this.repo.changedProducts(since, after, BATCH);
        const stale = rows.filter((r) => this.seenAt.get(r.id) !== new Date(r.updated_at).getTime());
        for (let i = 0; i < stale.length; i += 500)
          this.apply(await this.repo.searchDocs(stale.slice(i, i + 500).map((r) => r.id)));
        for (const r of rows) if (new Date(r.updated_at) > newest) newest = new Date(r.updated_at);
        if (rows.length < BATCH) break;
        const last = rows[rows.length - 1];
        since = new Date(last.updated_at);
        after = last.id;
      }
      this.watermark = newest;
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
    return (this.flushing ??= (async () => {
      try {
        while (this.queued.size && this.loaded) {
          const ids = [...this.queued].slice(0, 500);
          for (const id of ids) this.queued.delete(id);
          await this.refresh(ids);
        }
      } finally {
        this.flushing = undefined;
      }
    })());
  }

  /** Applies re-read rows: active ones (re)enter the index, others leave it; older reads are dropped. */
  private apply(rows: SearchDocRow[]): void {
    for (const r of rows) {
      const at = new Date(r.updated_at).getTime();
      const held = this.seenAt.get(r.id);
      if (held !== undefined && held > at) continue;
      this.seenAt.set(r.id, at);
      if (r.status !== 'active') {
        this.index.remove(r.id);
        continue;
      }
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
    }
  }
}
