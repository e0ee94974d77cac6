import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { newId } from '../common/ids';
import { withTimeout } from '../common/with-timeout';
import { ValidationFailedError } from '../common/errors/domain-error';
import type { Keyset } from '../infra/database/keyset';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import { LoginAuditRow } from './login-audit.entity';
import { LoginAuditRepository } from './login-audit.repository';
import type { LoginAuditItem, LoginAuditJob, LoginAuditQuery, LoginEvent } from './login-audit.types';

/** Bound on how long a login waits for a connected but unresponsive Redis to take the audit job. */
const ENQUEUE_TIMEOUT_MS = 500;

/**
 * The login trail: the auth flow records events here (a Bull job; the worker writes the row) and
 * admins/users list them. Recording never fails a login and never loses the event to a Redis
 * outage: when the job cannot be queued (Redis not connected, or not answering within
 * ENQUEUE_TIMEOUT_MS) the row is written directly.
 */
@Injectable()
export class LoginAudit {
  private readonly logger = new Logger('LoginAudit');

  constructor(
    @InjectQueue(QUEUES.audit) private readonly queue: Queue<LoginAuditJob>,
    private readonly repo: LoginAuditRepository,
  ) {}

  async record(event: LoginEvent): Promise<void> {
    const job: LoginAuditJob = traced({ ...event, id: newId(), at: new Date().toISOString() });
    try {
      // Bull's connection queues commands while Redis is away: do not even try then.
      if (this.queue.client.status !== 'ready')
        throw new Error(`Redis connection ${this.queue.client.status}`);
      await withTimeout(this.queue.add(job, { jobId: job.id }), ENQUEUE_TIMEOUT_MS, 'audit enqueue');
    } catch (err) {
      await this.writeDirectly(job, err as Error);
    }
  }

  /**
   * The fallback when the job cannot be queued: the row is written on the request path instead.
   * The row id is the job id, so an enqueue that timed out here but lands later inserts nothing
   * new (INSERT IGNORE). Only if MySQL refuses too is the event left to the log alone.
   */
  private async writeDirectly(job: LoginAuditJob, queueErr: Error): Promise<void> {
    try {
      await this.repo.insertOnce(job);
      this.logger.warn(`login audit ${job.id} written directly, not queued (${queueErr.message})`);
    } catch (err) {
      this.logger.error(
        `login audit lost: not queued (${queueErr.message}) nor written (${(err as Error).message}): ${JSON.stringify(
          { ...job, requestId: undefined },
        )}`,
      );
    }
  }

  /** Newest first, keyset-paginated on (created_at DESC, id DESC). */
  async list(q: LoginAuditQuery): Promise<{ items: LoginAuditItem[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
    const rows = await this.repo.page({
      email: q.email ? q.email.trim().toLowerCase() : undefined,
      userId: q.userId,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toItem),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }
}

const toItem = (r: LoginAuditRow): LoginAuditItem => ({
  id: r.id,
  userId: r.userId,
  email: r.email,
  event: r.event,
  outcome: r.outcome,
  reason: r.reason,
  ip: r.ip,
  userAgent: r.userAgent,
  createdAt: r.createdAt.toISOString(),
});

function encodeCursor(r: LoginAuditRow): string {
  return Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(cursor: string): Keyset {
  const [t, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(t ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || isNaN(createdAt.getTime()))
    throw new ValidationFailedError('cursor: not a cursor returned by this endpoint');
  return { createdAt, id };
}
