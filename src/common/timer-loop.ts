/**
 * A background loop: runs `pass` `delayMs()` after the previous pass settled, one pass at a time,
 * until stopped. `nudge()` asks for a pass now (while one runs: right after it). `stop()` cancels
 * the next pass and waits for the running one, so a shutdown hook can await it. `pass` should
 * not reject (log inside it): a rejection would go unhandled.
 */
export class TimerLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  /** `unref`: the pending timer alone does not keep the process alive. */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly delayMs: () => number,
    private readonly opts: { unref?: boolean } = {},
  ) {}

  /** The first pass runs after `firstInMs` (by default, one delay). */
  start(firstInMs = this.delayMs()): void {
    this.schedule(firstInMs);
  }

  nudge(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.pass().finally(() => {
        this.running = undefined;
        const more = this.again;
        this.again = false;
        this.schedule(more ? 0 : this.delayMs());
      });
    }, ms);
    if (this.opts.unref) this.timer.unref();
  }
}
