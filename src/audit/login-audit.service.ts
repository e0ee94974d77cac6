import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { newId } from '../common/ids';
import { ValidationFailedError } from '../common/errors/domain-error';
import { DbRouter } from '../infra/database/db-router.service';
import { QUEUES } from '../infra/queue/queues';
import { traced } from '../infra/queue/worker-registry.service';
import { LoginAuditRow } from './login-audit.entity';
import type { LoginAuditItem, LoginAuditJob, LoginEvent } from './login-audit.types';

/** Bound on how long a login waits for Redis to accept the audit job. */
const ENQUEUE_TIMEOUT_MS = 1000;

export interface LoginAuditQuery {
  email?: string;
  userId?: string;
  cursor?: string;
  limit?: number;
}

/**
 * The login trail: the auth flow records events here (a Bull job, never a database write on the
 * request path) and admins/users list them. Recording never fails a login: if Redis does not
 * take the job within a second, the event is logged and the request continues.
 */
@Injectable()
export class LoginAudit {
  private readonly logger = new Logger('LoginAudit');

  constructor(
    @InjectQueue(QUEUES.audit) private readonly queue: Queue<LoginAuditJob>,
    private readonly db: DbRouter,
  ) {}

  async record(event: LoginEvent): Promise<void> {
    const job: LoginAuditJob = traced({ ...event, id: newId(), at: new Date().toISOString() });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.add(job, { jobId: job.id }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`not queued within ${ENQUEUE_TIMEOUT_MS} ms`)),
            ENQUEUE_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (err) {
      this.logger.warn(
        `login audit not queued (${(err as Error).message}): ${JSON.stringify({ ...job, requestId: undefined })}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Newest first, keyset-paginated on (created_at DESC, id DESC). */
  async list(q: LoginAuditQuery): Promise<{ items: LoginAuditItem[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
    const qb = this.db.readRepo(LoginAuditRow).createQueryBuilder('a');
    if (q.email) qb.andWhere('a.email = :email', { email: q.email.trim().toLowerCase() });
    if (q.userId) qb.andWhere('a.userId = :userId', { userId: q.userId });
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      // Spelled as an OR rather than a row comparison: both MySQL and MariaDB turn it into an index range.
      qb.andWhere('(a.createdAt < :t OR (a.createdAt = :t AND a.id < :id))', { t: c.createdAt, id: c.id });
    }
    const rows = await qb
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toItem),
      nextCursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }
}

/** Writes one audit row; the row id comes from the job, so a retried job inserts nothing new. */
export async function writeLoginAudit(db: DbRouter, job: LoginAuditJob): Promise<void> {
  await db
    .writeRepo(LoginAuditRow)
    .createQueryBuilder()
    .insert()
    .orIgnore()
    .values({
      id: job.id,
      userId: job.userId,
      email: job.email.slice(0, 254),
      event: job.event,
      outcome: job.outcome,
      reason: job.reason,
      ip: job.ip.slice(0, 45),
      userAgent: job.userAgent?.slice(0, 512) ?? null,
      createdAt: new Date(job.at),
    })
    .execute();
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

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [t, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const createdAt = new Date(t ?? '');
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || isNaN(createdAt.getTime()))
    throw new ValidationFailedError('cursor: not a cursor returned by this endpoint');
  return { createdAt, id };
}
