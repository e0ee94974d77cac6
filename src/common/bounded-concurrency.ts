/** Why {@link BoundedConcurrency.run} refused: the queue was full, or the wait took too long. */
export class ConcurrencyRefused extends Error {
  constructor(readonly reason: 'queue_full' | 'wait_timeout') {
    super(reason === 'queue_full' ? 'too many callers waiting' : 'waited too long for a slot');
    this.name = 'ConcurrencyRefused';
  }
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/**
 * At most `limit` tasks run at once; up to `queueLimit` more wait in FIFO order, each at most
 * `maxWaitMs`. A caller beyond the queue, or one whose wait runs out, is refused with
 * {@link ConcurrencyRefused} without running its task: under overload the work stays bounded
 * and the excess is answered quickly instead of piling up (a queue that grows without bound
 * only turns overload into timeouts for everyone).
 */
export class BoundedConcurrency {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly queueLimit: number,
    readonly maxWaitMs: number,
  ) {
    if (limit < 1) throw new Error('limit must be at least 1');
  }

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.limit && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.queueLimit) return Promise.reject(new ConcurrencyRefused('queue_full'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        // The slot is handed over by release(): `running` is not decremented in between, so a
        // newcomer can never take it ahead of the queue.
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new ConcurrencyRefused('wait_timeout'));
        }, this.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.running--;
  }
}
