/**
 * Coalesces single-key reads made close together — e.g. by the concurrent jobs of a queue — into
 * one `loadMany` call: a key waits at most `delayMs`, or until `max` keys are pending. Each caller
 * gets its key's value (undefined when `loadMany` did not return it) or the batch's error. Nothing
 * is cached: every load reads.
 */
export class BatchLoader<K, V> {
  private pending = new Map<K, { resolve: (v: V | undefined) => void; reject: (err: unknown) => void }[]>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly opts: { max: number; delayMs: number },
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.opts.max) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.delayMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (!batch.size) return;
    this.loadMany([...batch.keys()]).then(
      (found) => batch.forEach((waiting, key) => waiting.forEach((w) => w.resolve(found.get(key)))),
      (err: unknown) => batch.forEach((waiting) => waiting.forEach((w) => w.reject(err))),
    );
  }
}

/**
 * The write side of {@link BatchLoader}: `write(item)` resolves once the `writeMany` call that
 * took it succeeded (items written together: at most `delayMs` apart, or `max` of them), and
 * rejects with that call's error. Equal items (by identity) are written once.
 */
export class BatchWriter<T> {
  private readonly loader: BatchLoader<T, never>;

  constructor(writeMany: (items: T[]) => Promise<void>, opts: { max: number; delayMs: number }) {
    this.loader = new BatchLoader(async (items) => {
      await writeMany(items);
      return new Map<T, never>();
    }, opts);
  }

  async write(item: T): Promise<void> {
    await this.loader.load(item);
  }
}
