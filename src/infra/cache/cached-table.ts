import type { EntityManager } from 'typeorm';
import { newId } from '../../common/ids';
import { isUuid } from '../../common/uuid';
import type { CacheTtl, TwoLevelCache } from './two-level-cache.service';

/** The statements a CachedTable runs: the whole table, one row, and the writes of one row. */
export interface TableRepository<View, Row> {
  /** `em`: where the cache decided to read (a replica that has the last write, or the primary). */
  all(em: EntityManager): Promise<View[]>;
  findById(id: string): Promise<View | undefined>;
  insert(id: string, row: Row): Promise<void>;
  update(id: string, row: Row): Promise<unknown>;
  /** False when no row has the id. */
  delete(id: string): Promise<boolean>;
}

export interface CachedTableOptions<View, Input, Row> {
  /** The one cache key the whole table is kept under. */
  key: string;
  ttl: CacheTtl;
  /** Validates and normalizes an input (a new row, or a row with a patch applied): the row to write. */
  check: (input: Input) => Row;
  /** The error of an unknown (or malformed) id. */
  notFound: (id: string) => Error;
  repo: TableRepository<View, Row>;
}

/**
 * A small admin-managed table (shipping methods, tax rates) read whole through the cache under
 * one key: every read is the cached list, and every admin write — create, update (a patch over
 * the current row, checked whole again), delete — invalidates that key on every instance once it
 * has committed (TwoLevelCache.afterWrite), then answers the row as the primary has it.
 */
export class CachedTable<View extends Input, Input extends object, Row> {
  constructor(
    private readonly cache: TwoLevelCache,
    private readonly opts: CachedTableOptions<View, Input, Row>,
  ) {}

  async all(): Promise<View[]> {
    const { key, ttl, repo } = this.opts;
    const json = await this.cache.get(key, ttl, ({ read }) => read((em) => repo.all(em)));
    return json ? (JSON.parse(json) as View[]) : [];
  }

  async create(input: Input): Promise<View> {
    const row = this.opts.check(input);
    const id = newId();
    await this.opts.repo.insert(id, row);
    return this.written(id);
  }

  async update(id: string, patch: Partial<Input>): Promise<View> {
    const current = isUuid(id) ? await this.opts.repo.findById(id) : undefined;
    if (!current) throw this.opts.notFound(id);
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const row = this.opts.check({ ...current, ...defined });
    await this.opts.repo.update(id, row);
    return this.written(id);
  }

  async delete(id: string): Promise<void> {
    if (!isUuid(id) || !(await this.opts.repo.delete(id))) throw this.opts.notFound(id);
    await this.cache.afterWrite({ keys: [this.opts.key] });
  }

  private async written(id: string): Promise<View> {
    await this.cache.afterWrite({ keys: [this.opts.key] });
    return (await this.opts.repo.findById(id))!;
  }
}
