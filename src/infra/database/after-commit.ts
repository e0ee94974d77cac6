/** Work that must happen only once a write is durable: a nudge, a mail, a call to a provider. */
export type AfterCommitHook = () => unknown;

export interface AfterCommitOptions {
  /**
   * Do not make the committing call wait for this hook (for niceties that must not delay the
   * caller, such as a low-stock alert on the order path). DbRouter still tracks it, and
   * shutdown waits for it.
   */
  background?: boolean;
}

interface Entry {
  fn: AfterCommitHook;
  background: boolean;
}

/**
 * The hooks of one unit of work — an outermost `DbRouter.transaction` attempt or a `WriteBatch` —
 * run once by DbRouter after its COMMIT, in the order they were added. An attempt that rolls
 * back (an error, or a deadlock that re-runs the callback) is dropped with its hooks.
 */
export class AfterCommitHooks {
  private readonly entries: Entry[] = [];

  add(fn: AfterCommitHook, opts: AfterCommitOptions = {}): void {
    this.entries.push({ fn, background: !!opts.background });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Empties the list (so a unit of work's hooks can run at most once) and returns what it held. */
  take(): readonly Entry[] {
    return this.entries.splice(0);
  }
}

/**
 * Runs the hooks in order. Each hook's failure (a throw or a rejection) goes to `onError` and
 * never to the caller: the write is committed, and its caller must hear so. Hooks that return a
 * promise are awaited one after another, except background ones, which are only started; every
 * promise is handed to `track` (so shutdown can wait for it).
 */
export async function runAfterCommit(
  hooks: AfterCommitHooks,
  onError: (err: unknown) => void,
  track: (p: Promise<unknown>) => void,
): Promise<void> {
  for (const { fn, background } of hooks.take()) {
    let result: unknown;
    try {
      result = fn();
    } catch (err) {
      onError(err);
      continue;
    }
    if (!isThenable(result)) continue;
    const settled = Promise.resolve(result).then(undefined, onError);
    track(settled);
    if (!background) await settled;
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  !!v && typeof (v as { then?: unknown }).then === 'function';
