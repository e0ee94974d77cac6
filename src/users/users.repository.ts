import { Injectable } from '@nestjs/common';
import { EntityTarget, IsNull, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, unlessDuplicate } from '../infra/database/mysql-results';
import { PasswordResetToken } from './password-reset-token.entity';
import type { StoredToken } from './stored-token';
import { RefreshToken } from './refresh-token.entity';
import { User } from './user.entity';

/**
 * Where a user is read: `primary` (or the open transaction) for decisions; `reader` the plain
 * read (replica unless read-your-writes applies); `failover` the same, retried once on the
 * primary when a replica does not answer (DbRouter.read).
 */
export type UserReadAt = 'primary' | 'reader' | 'failover';

/** The refresh-token lookups the service makes (by the token's hash, optionally its owner; by id). */
export type RefreshTokenKey = { tokenHash: string; userId?: string } | { id: string };

/**
 * Every statement on `users`, `refresh_tokens` and `password_reset_tokens`. Writes run in the
 * caller's transaction when one is open (DbRouter.writeRepo / execute join it), else alone on
 * the primary; reads of tokens and credentials read the primary. Conditional writes answer
 * whether their WHERE matched; the unique email answers `false` on insert.
 */
@Injectable()
export class UsersRepository {
  constructor(private readonly db: DbRouter) {}

  // ---- users -------------------------------------------------------------------------------

  /** Inserts the user; false when the email is taken (the unique index decides races). */
  async insert(user: User): Promise<boolean> {
    return unlessDuplicate(() => this.db.writeRepo(User).insert(user));
  }

  /** Address and name of each of `ids` that exists, in one read of the primary (the mail handlers' batch). */
  async contacts(ids: string[]): Promise<{ id: string; email: string; name: string }[]> {
    if (!ids.length) return [];
    return this.db.primaryReader().query('SELECT id, email, name FROM users WHERE id IN (?)', [ids]);
  }

  /** By the normalized email, on the primary (a just-registered user can log in at once). */
  async findByEmail(email: string): Promise<User | null> {
    return this.db.primaryReader().getRepository(User).findOneBy({ email });
  }

  async findById(id: string, at: UserReadAt = 'primary'): Promise<User | null> {
    if (at === 'failover') return this.db.read((em) => em.getRepository(User).findOneBy({ id }));
    const repo = at === 'primary' ? this.db.primaryReader().getRepository(User) : this.db.readRepo(User);
    return repo.findOneBy({ id });
  }

  /** When the address was verified (null: not yet), on the primary; undefined for an unknown id. */
  async emailVerifiedAt(id: string): Promise<Date | null | undefined> {
    const u = await this.db
      .primaryReader()
      .getRepository(User)
      .findOne({ where: { id }, select: { id: true, emailVerifiedAt: true } });
    return u ? u.emailVerifiedAt : undefined;
  }

  /** Marks the address verified if it is still `email` and not verified yet; true when it did. */
  async markEmailVerified(id: string, email: string, now: Date): Promise<boolean> {
    return this.update(
      User,
      { emailVerifiedAt: now, updatedAt: now },
      'id = :id AND email = :email AND email_verified_at IS NULL',
      { id, email },
    );
  }

  /** Sets `next` only while the hash is still `previous`; true when it did. */
  async replaceHash(id: string, previous: string, next: string): Promise<boolean> {
    return this.update(
      User,
      { passwordHash: next, updatedAt: new Date() },
      'id = :id AND password_hash = :previous',
      { id, previous },
    );
  }

  /** Locks the account until `until` unless it is locked longer already. */
  async lock(id: string, until: Date): Promise<void> {
    await this.update(
      User,
      { lockedUntil: until, updatedAt: new Date() },
      'id = :id AND (locked_until IS NULL OR locked_until < :until)',
      { id, until },
    );
  }

  /** A changed password (the owner knew the current one). */
  async setPassword(id: string, hash: string, now: Date): Promise<void> {
    await this.update(User, { passwordHash: hash, updatedAt: now }, 'id = :id', { id });
  }

  /** A reset password: the lock is lifted and the address counts as verified (the link proved it). */
  async setResetPassword(id: string, hash: string, now: Date): Promise<void> {
    await this.update(
      User,
      {
        passwordHash: hash,
        lockedUntil: null,
        emailVerifiedAt: () => 'COALESCE(email_verified_at, :now)',
        updatedAt: now,
      },
      'id = :id',
      { id, now },
    );
  }

  // ---- refresh_tokens ------------------------------------------------------------------------

  async insertRefreshToken(row: RefreshToken): Promise<void> {
    await this.db.writeRepo(RefreshToken).insert(row);
  }

  /** A refresh token's row, on the primary. */
  async findRefreshToken(key: RefreshTokenKey): Promise<RefreshToken | null> {
    return this.db.primaryReader().getRepository(RefreshToken).findOneBy(key);
  }

  /** Marks the token rotated if it is still live (not rotated, revoked or expired); true when it did. */
  async rotateRefreshToken(id: string, now: Date): Promise<boolean> {
    return this.spendToken(RefreshToken, id, now, { rotatedAt: now }, ['rotated_at', 'revoked_at']);
  }

  /** Revokes the live tokens of one family, or of every family of a user. */
  async revokeRefreshTokens(of: { familyId: string } | { userId: string }): Promise<void> {
    await this.db.writeRepo(RefreshToken).update({ ...of, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  /** Deletes up to `limit` tokens that expired before `cutoff`, oldest first; answers how many. */
  async purgeRefreshTokens(cutoff: Date, limit: number): Promise<number> {
    return affected(
      await this.db.execute(
        'DELETE FROM refresh_tokens WHERE expires_at < ? ORDER BY expires_at, id LIMIT ?',
        [cutoff, limit],
      ),
    );
  }

  // ---- password_reset_tokens -----------------------------------------------------------------

  async insertResetToken(row: PasswordResetToken): Promise<void> {
    await this.db.writeRepo(PasswordResetToken).insert(row);
  }

  /** A reset token's row by its hash, on the primary. */
  async findResetToken(tokenHash: string): Promise<PasswordResetToken | null> {
    return this.db.primaryReader().getRepository(PasswordResetToken).findOneBy({ tokenHash });
  }

  /** Spends the token if it is unused and unexpired; true when it did (of two concurrent uses, one). */
  async spendResetToken(id: string, now: Date): Promise<boolean> {
    return this.spendToken(PasswordResetToken, id, now, { usedAt: now }, ['used_at']);
  }

  /** Voids the user's pending reset links. */
  async voidResetTokensOf(userId: string, now: Date): Promise<void> {
    await this.update(PasswordResetToken, { usedAt: now }, 'user_id = :userId AND used_at IS NULL', {
      userId,
    });
  }

  /** Deletes up to 1000 reset tokens that expired before `cutoff`; answers how many. */
  async purgeResetTokens(cutoff: Date): Promise<number> {
    return affected(
      await this.db.execute(
        'DELETE FROM password_reset_tokens WHERE expires_at < ? ORDER BY expires_at LIMIT 1000',
        [cutoff],
      ),
    );
  }

  /** One conditional UPDATE of `entity`'s table, in the open transaction if any; true when its WHERE matched one row. */
  /**
   * Applies `set` to a stored token only while it is live: unexpired at `now` and each of `unset`
   * still NULL (one conditional UPDATE, so of two concurrent callers exactly one gets true).
   */
  private spendToken<E extends StoredToken>(
    entity: EntityTarget<E>,
    id: string,
    now: Date,
    set: QueryDeepPartialEntity<E>,
    unset: string[],
  ): Promise<boolean> {
    const live = unset.map((column) => `${column} IS NULL`).join(' AND ');
    return this.update(entity, set, `id = :id AND ${live} AND expires_at > :now`, { id, now });
  }

  private async update<E extends ObjectLiteral>(
    entity: EntityTarget<E>,
    set: QueryDeepPartialEntity<E>,
    where: string,
    params: ObjectLiteral,
  ): Promise<boolean> {
    const res = await this.db
      .writeRepo(entity)
      .createQueryBuilder()
      .update()
      .set(set)
      .where(where, params)
      .execute();
    return res.affected === 1;
  }
}
