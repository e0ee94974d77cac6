import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { logSynchronously } from './observability/logger.module';

/**
 * Readiness of this instance. It turns false as soon as shutdown begins, so load balancers
 * and Kubernetes stop routing new work here while in-flight requests and jobs drain.
 */
@Injectable()
export class Lifecycle implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Lifecycle');
  private draining = false;
  private started = false;

  markStarted(): void {
    this.started = true;
  }

  get ready(): boolean {
    return this.started && !this.draining;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  beforeApplicationShutdown(signal?: string): void {
    // The drain's lines must reach stdout even though the process ends by its re-raised signal.
    if (signal) logSynchronously();
    if (!this.draining) this.logger.log(`shutdown${signal ? ` on ${signal}` : ''}: not ready, draining`);
    this.draining = true;
  }
}
