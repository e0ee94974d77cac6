import { Injectable, Optional } from '@nestjs/common';
import { withTimeout } from '../common/with-timeout';
import { DbRouter } from '../infra/database/db-router.service';
import { ReplicaStatus } from '../infra/database/replica-pool';
import { Lifecycle } from '../infra/lifecycle.service';
import { RedisService } from '../infra/redis/redis.service';
import { QueueHealth } from '../infra/queue/queue-health.service';

type State = 'up' | 'down';

export interface ReadinessReport {
  /** ok: everything up; degraded: serving, but a replica is out of rotation; error: not ready. */
  status: 'ok' | 'degraded' | 'error';
  draining: boolean;
  primary: { state: State; error?: string };
  replicas: ReplicaStatus[];
  /** Where plain reads go right now. */
  reads: 'replicas' | 'primary';
  redis: { state: State };
  queues: Record<
    string,
    { state: State; waiting?: number; active?: number; failed?: number; delayed?: number }
  >;
}

const PING_TIMEOUT_MS = 1500;

@Injectable()
export class HealthService {
  constructor(
    private readonly db: DbRouter,
    private readonly redis: RedisService,
    private readonly lifecycle: Lifecycle,
    @Optional() private readonly queues?: QueueHealth,
  ) {}

  async readiness(): Promise<ReadinessReport> {
    const [primary, redis, queues] = await Promise.all([
      this.pingPrimary(),
      this.pingRedis(),
      this.queues ? this.queues.report() : Promise.resolve({} as ReadinessReport['queues']),
    ]);
    const replicas = this.db.replicaStatuses();
    const anyReplicaUp = replicas.some((r) => r.state === 'up');
    const essentialUp = primary.state === 'up' && redis.state === 'up';
    const allUp =
      essentialUp &&
      replicas.every((r) => r.state === 'up') &&
      Object.values(queues).every((q) => q.state === 'up');
    return {
      status: !essentialUp || !this.lifecycle.ready ? 'error' : allUp ? 'ok' : 'degraded',
      draining: this.lifecycle.isDraining,
      primary,
      replicas,
      reads: anyReplicaUp ? 'replicas' : 'primary',
      redis,
      queues,
    };
  }

  private async pingPrimary(): Promise<{ state: State; error?: string }> {
    try {
      await withTimeout(this.db.ping(), PING_TIMEOUT_MS);
      return { state: 'up' };
    } catch (err) {
      return { state: 'down', error: (err as Error).message };
    }
  }

  private async pingRedis(): Promise<{ state: State }> {
    try {
      await withTimeout(this.redis.client.ping(), PING_TIMEOUT_MS);
      return { state: 'up' };
    } catch {
      return { state: 'down' };
    }
  }
}
