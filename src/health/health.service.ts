import { Injectable, Optional } from '@nestjs/common';
import { withTimeout } from '../common/with-timeout';
import { DbRouter } from '../infra/database/db-router.service';
import { ReplicaStatus } from '../infra/database/replica-pool';
import { Lifecycle } from '../infra/lifecycle.service';
import { RedisService } from '../infra/redis/redis.service';
import { QueueHealth } from '../infra/queue/queue-health.service';

type State = 'up' | 'down';

/** ok: everything up; degraded: serving, but a replica or a queue is out; error: not ready (503). */
export type ReadinessStatus = 'ok' | 'degraded' | 'error';

/** What anonymous callers (load balancers, k8s probes) get: the status, nothing about the inside. */
export interface PublicReadiness {
  status: ReadinessStatus;
}

/** The admin view: every dependency by name with its state (hosts, lag, errors, queue counts). */
export interface ReadinessReport extends PublicReadiness {
  draining: boolean;
  /**
   * The dependencies not answering right now, by the names used below: `primary`, `redis`,
   * `replica-<n>` (down or lagging), `queue:<name>`. Empty when all answer.
   */
  unavailable: string[];
  primary: { state: State; error?: string };
  replicas: ReplicaStatus[];
  /** Where plain reads go right now. */
  reads: 'replicas' | 'primary';
  redis: { state: State; error?: string };
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

  /**
   * Pings the primary and Redis (each bounded), reads the replica monitor's last view and the
   * queues' counts. Not ready while the primary or Redis does not answer or while draining; the
   * next call after they answer again says ready (nothing is latched).
   */
  async readiness(): Promise<ReadinessReport> {
    const [primary, redis, queues] = await Promise.all([
      this.pingPrimary(),
      this.pingRedis(),
      this.queues ? this.queues.report() : Promise.resolve({} as ReadinessReport['queues']),
    ]);
    const replicas = this.db.replicaStatuses();
    const anyReplicaUp = replicas.some((r) => r.state === 'up');
    const unavailable = [
      ...(primary.state === 'up' ? [] : ['primary']),
      ...replicas.filter((r) => r.state !== 'up').map((r) => r.name),
      ...(redis.state === 'up' ? [] : ['redis']),
      ...Object.entries(queues)
        .filter(([, q]) => q.state !== 'up')
        .map(([name]) => `queue:${name}`),
    ];
    const essentialUp = primary.state === 'up' && redis.state === 'up';
    return {
      status: !essentialUp || !this.lifecycle.ready ? 'error' : unavailable.length ? 'degraded' : 'ok',
      draining: this.lifecycle.isDraining,
      unavailable,
      primary,
      replicas,
      reads: anyReplicaUp ? 'replicas' : 'primary',
      redis,
      queues,
    };
  }

  private async pingPrimary(): Promise<{ state: State; error?: string }> {
    try {
      await withTimeout(this.db.ping(), PING_TIMEOUT_MS, 'primary', 'mysql');
      return { state: 'up' };
    } catch (err) {
      return { state: 'down', error: (err as Error).message };
    }
  }

  private async pingRedis(): Promise<{ state: State; error?: string }> {
    try {
      await withTimeout(this.redis.client.ping(), PING_TIMEOUT_MS, 'Redis PING', 'redis');
      return { state: 'up' };
    } catch (err) {
      return { state: 'down', error: (err as Error).message };
    }
  }
}
