import { Injectable } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import type { KeysetPage } from '../infra/database/keyset';
import { LoginAuditRow } from './login-audit.entity';
import type { LoginAuditJob } from './login-audit.types';

/** A page of the trail, newest first, of one email tried or one user (or of everyone). */
export interface LoginAuditFilter extends KeysetPage {
  email?: string;
  userId?: string;
}

/** Every statement on `login_audits`. */
@Injectable()
export class LoginAuditRepository {
  constructor(private readonly db: DbRouter) {}

  /** Writes one audit row; the row id comes from the job, so a retried job inserts nothing new. */
  async insertOnce(job: LoginAuditJob): Promise<void> {
    await this.db
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

  /** Keyset-paginated on (created_at DESC, id DESC), on a replica. */
  page(f: LoginAuditFilter): Promise<LoginAuditRow[]> {
    const qb = this.db.readRepo(LoginAuditRow).createQueryBuilder('a');
    if (f.email !== undefined) qb.andWhere('a.email = :email', { email: f.email });
    if (f.userId) qb.andWhere('a.userId = :userId', { userId: f.userId });
    // Spelled as an OR rather than a row comparison: both MySQL and MariaDB turn it into an index range.
    if (f.after)
      qb.andWhere('(a.createdAt < :t OR (a.createdAt = :t AND a.id < :id))', {
        t: f.after.createdAt,
        id: f.after.id,
      });
    return qb.orderBy('a.createdAt', 'DESC').addOrderBy('a.id', 'DESC').limit(f.limit).getMany();
  }
}
