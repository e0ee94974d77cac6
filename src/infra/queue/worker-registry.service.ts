import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Job, Queue } from 'bull';
import { requestContext } from '../../common/context/request-context';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig, runsWorkers } from '../config/app-config';
import { QueueMetrics } from './queue-metrics';
import { QueueName, isOwed } from './queues';
import { registeredQueue } from './register-queues';

/** Job payloads may carry the id of the request that produced them, for log correlation. */
export interface TracedJobData {
  requestId?: string;
}

/**
 * Attaches queue handlers only in processes whose APP_ROLE consumes queues (`worker`, `all`);
 * an `api` process only produces. A consumer names its queue (`QUEUES.x`) and the registry finds
 * the Queue its module registered, so only producers inject one. At shutdown, consuming stops before the connections the
 * handlers use close (see stopBeforeInfraCloses). Each job runs in its own request context carrying the
 * producer's request id, so log lines of a job name the request that caused it.
 */
@Injectable()
export class WorkerRegistry implements OnApplicationBootstrap {
  private readonly logger = new Logger('Workers');
  /** Queues whose outcome events are already observed (a queue may get several named handlers). */
  private readonly observed = new WeakSet<Queue>();
  /** Queues this process consumes, stopped together at shutdown (see stopBeforeInfraCloses). */
  private readonly consumed = new Set<Queue>();
  private stopping?: Promise<void>;
  /** The schedules of periodic jobs, added at application bootstrap. */
  private readonly schedules: (() => void)[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: QueueMetrics,
    private readonly moduleRef: ModuleRef,
  ) {}

  get enabled(): boolean {
    return runsWorkers(this.config.role);
  }

  /**
   * Runs `handler` for the jobs of a queue (all of them, or those called `opts.name`): an
   * application queue by its name, or a Queue object the application did not register (a test's
   * probe). Call from onModuleInit: every queue provider exists by then.
   */
  process<T extends object>(
    named: QueueName | Queue<T>,
    handler: (job: Job<T>) => Promise<unknown>,
    opts: { name?: string; concurrency?: number } = {},
  ): void {
    const queue = typeof named === 'string' ? registeredQueue<T>(this.moduleRef, named) : named;
    if (!this.enabled) return;
    const run = (job: Job<T>) =>
      requestContext.run({ requestId: jobRequestId(queue, job) }, () => handler(job));
    const concurrency = opts.concurrency ?? 1;
    // Settles only when the queue closes. It rejects when consuming cannot start (Redis not
    // answering Bull's startup commands) or a processing loop dies: logged, never an unhandled
    // rejection (which would end the process, API included under APP_ROLE=all).
    (opts.name ? queue.process(opts.name, concurrency, run) : queue.process(concurrency, run)).catch(
      (err: Error) =>
        this.logger.error(
          `queue ${queue.name}${opts.name ? `:${opts.name}` : ''} stopped consuming: ${err.message}`,
        ),
    );
    this.observe(queue);
    this.stopBeforeInfraCloses(queue);
    this.logger.log(
      `consuming queue ${queue.name}${opts.name ? `:${opts.name}` : ''} x${opts.concurrency ?? 1}`,
    );
  }

  /**
   * Runs `run(id)` for the jobs `name` of `queue` whose payload names one record under `key`
   * (`{ orderId }`, `{ refundId }`): an expiry, a completion. A job without the id (a payload of an
   * older shape) completes doing nothing. Call from onModuleInit, as process.
   */
  processById<K extends string>(
    queue: QueueName,
    name: string,
    key: K,
    run: (id: string) => Promise<unknown>,
    opts: { concurrency?: number } = {},
  ): void {
    this.process<Partial<Record<K, string>>>(
      queue,
      async (job) => {
        const id = job.data[key];
        if (id) await run(id);
      },
      { name, concurrency: opts.concurrency },
    );
  }

  /**
   * A periodic job (a sweep, a purge, a reconciliation): `run` handles the job `name` on `queue`,
   * and at application bootstrap the job is scheduled every `everyMs` under the repeat key
   * `jobId` (see repeat). Call from onModuleInit, as process.
   */
  periodic(
    queue: QueueName,
    name: string,
    everyMs: number,
    jobId: string,
    run: () => Promise<unknown>,
  ): void {
    this.process(queue, run, { name });
    this.schedules.push(() => this.repeat(registeredQueue(this.moduleRef, queue), name, everyMs, jobId));
  }

  /** Nest runs every onModuleInit (where handlers attach) before any onApplicationBootstrap. */
  onApplicationBootstrap(): void {
    for (const schedule of this.schedules.splice(0)) schedule();
  }

  /**
   * Schedules the repeatable job `name` on `queue` every `everyMs` (consuming roles only). Every
   * worker instance adds the same repeat key (`jobId`), so Bull keeps one schedule; a failure is
   * logged and the next start tries again. Runs at application bootstrap (periodic). A failed run is not
   * a dead letter (the next run does the work): it is logged and counted, not kept, so a queue's
   * failed set holds dead letters only.
   */
  private repeat(queue: Queue, name: string, everyMs: number, jobId: string): void {
    if (!this.enabled) return;
    queue
      .add(name, {}, { repeat: { every: everyMs }, jobId, attempts: 1, removeOnFail: true })
      .catch((err: Error) => this.logger.warn(`${queue.name}:${name} not scheduled: ${err.message}`));
  }

  /**
   * At shutdown this process stops taking jobs from its queues and waits for the ones it is
   * running, while Redis, MySQL and SMTP are still open. Nest calls every provider's onModuleDestroy
   * first, and the global modules' (RedisService, which quits the command connection) last; the
   * queue object is a provider of the non-global module that registered it, so a hook on it runs
   * in the first wave. @nestjs/bull's own `queue.close()` runs only in onApplicationShutdown,
   * after Redis was gone: a mail mid-send then could not record its "sent" marker, failed that
   * attempt and was sent again by the retry. The local pause leaves the queue usable for
   * producers (requests still draining); `close()` later finds nothing running.
   *
   * The first queue's hook stops all of them at once and the others wait for that: Nest runs the
   * modules' hooks one module after another, and Bull's pause spends up to 500 ms on the blocked
   * BRPOPLPUSH connection's QUIT, so one queue after another cost ~0.5 s each (3.5 s for seven).
   */
  private stopBeforeInfraCloses(queue: Queue): void {
    this.consumed.add(queue);
    const q = queue as Queue & { onModuleDestroy?: () => Promise<void> };
    if (q.onModuleDestroy) return;
    q.onModuleDestroy = () => (this.stopping ??= this.stopConsuming());
  }

  private async stopConsuming(): Promise<void> {
    const boundMs = Math.floor(this.config.shutdownTimeoutMs / 2);
    await Promise.all(
      [...this.consumed].map(async (queue) => {
        try {
          await withTimeout(queue.pause(true), boundMs, `running ${queue.name} jobs`);
          const released = await releaseUnstartedJobs(queue);
          if (released) this.logger.log(`queue ${queue.name}: ${released} job(s) not started handed back`);
        } catch (err) {
          this.logger.warn(`queue ${queue.name} not stopped cleanly: ${(err as Error).message}`);
        }
      }),
    );
  }

  private observe(queue: Queue): void {
    if (this.observed.has(queue)) return;
    this.observed.add(queue);
    const completed = this.metrics.processed.labels(queue.name, 'completed');
    const failed = this.metrics.processed.labels(queue.name, 'failed');
    const deadLetters = this.metrics.deadLetters.labels(queue.name);
    queue.on('completed', () => completed.inc());
    queue.on('failed', (job: Job, err: Error) => {
      failed.inc();
      // The producer's request id, so the line joins the request's own log lines.
      requestContext.run({ requestId: jobRequestId(queue, job) }, () => {
        const attempts = job.opts.attempts ?? 1;
        if (isOwed(job.opts) && job.attemptsMade === attempts) {
          // The one line an operator alerts on (with shop_queue_dead_letters_total): the job is
          // kept and re-driven by DeadLetters, never dropped.
          deadLetters.inc();
          this.logger.error(
            `dead letter: ${queue.name} job ${job.id} (${job.name}) failed all ${attempts} attempts, ` +
              `kept and re-driven every QUEUE_REDRIVE_INTERVAL_MS: ${err.message}`,
          );
        } else
          this.logger.warn(
            `${queue.name} job ${job.id} failed (attempt ${job.attemptsMade}${job.attemptsMade > attempts ? ', re-driven dead letter' : ''}): ${err.message}`,
          );
      });
    });
  }
}

/** The producer's request id, or one naming the job (the same for every attempt). */
function jobRequestId(queue: Queue, job: Job): string {
  return (job.data as TracedJobData | undefined)?.requestId ?? `job-${queue.name}-${job.id}`;
}

/** Stamps the current request id onto a job payload. */
export function traced<T extends object>(data: T): T & TracedJobData {
  return { ...data, requestId: requestContext.requestId() };
}

/**
 * Jobs this process took but will never start, handed back to the front of the wait list so
 * another worker runs them now instead of after the stalled-job check (30 s+, and then counted
 * as a stall). Two kinds exist once a local pause has let the running jobs finish:
 * - a job Bull fetched on completing the previous one (moveToFinished fetches the next job and
 *   locks it with this queue's token) that now waits for the pause to end;
 * - a job the blocking BRPOPLPUSH moved to `active` while the pause was cutting that connection:
 *   it is in `active` with no lock. Another worker's job is lockless only between its BRPOPLPUSH
 *   and its lock (a millisecond), so a job is taken only if it is still lockless half a second
 *   later, the same test Bull's stalled check makes over 30 s.
 * Neither was started, so handing it back can never run a job twice.
 */
const RELEASE_OWN = `
local n = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local lock = ARGV[1] .. id .. ':lock'
  if redis.call('GET', lock) == ARGV[2] then
    redis.call('DEL', lock)
    redis.call('LREM', KEYS[1], 1, id)
    redis.call('RPUSH', KEYS[2], id)
    n = n + 1
  end
end
return n`;

const RELEASE_LOCKLESS = `
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('EXISTS', ARGV[1] .. id .. ':lock') == 0 and redis.call('LREM', KEYS[1], 1, id) == 1 then
    redis.call('RPUSH', KEYS[2], id)
    n = n + 1
  end
end
return n`;

async function releaseUnstartedJobs(queue: Queue): Promise<number> {
  const q = queue as Queue & { token: string; toKey(type: string): string };
  const [active, wait, prefix] = [q.toKey('active'), q.toKey('wait'), q.toKey('')];
  const own = Number(await queue.client.eval(RELEASE_OWN, 2, active, wait, prefix, q.token));
  const lockless = async () => {
    const ids = await queue.client.lrange(active, 0, -1);
    const locks = ids.length ? await queue.client.mget(...ids.map((id) => `${prefix}${id}:lock`)) : [];
    return ids.filter((_, i) => locks[i] === null);
  };
  const suspects = await lockless();
  if (!suspects.length) return own;
  await new Promise((r) => setTimeout(r, 500));
  const still = new Set(await lockless());
  const orphans = suspects.filter((id) => still.has(id));
  const moved = orphans.length
    ? Number(await queue.client.eval(RELEASE_LOCKLESS, 2, active, wait, prefix, '', ...orphans))
    : 0;
  return own + moved;
}
