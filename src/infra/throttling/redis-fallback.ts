import { Logger } from '@nestjs/common';

/**
 * Redis first; while it is unreachable (the call fails or runs out of its bound), the in-process
 * answer instead, so a brake keeps braking (per instance) rather than letting everything through.
 * The switch is logged once each way per outage, under `context`.
 */
export class RedisFallback {
  private readonly logger: Logger;
  private degraded = false;

  /** `counted`: what is counted, as the log lines name it ("login attempts"). */
  constructor(
    context: string,
    private readonly counted: string,
  ) {
    this.logger = new Logger(context);
  }

  async run<T>(remote: () => Promise<T>, local: () => T): Promise<T> {
    try {
      const r = await remote();
      if (this.degraded) this.logger.log(`${this.counted} counted in Redis again`);
      this.degraded = false;
      return r;
    } catch (err) {
      if (!this.degraded)
        this.logger.warn(
          `${this.counted} counted in this process only while Redis is unreachable (${(err as Error).message})`,
        );
      this.degraded = true;
      return local();
    }
  }
}
