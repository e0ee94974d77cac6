import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../common/ids';
import { AppConfig } from '../infra/config/app-config';
import { DbRouter } from '../infra/database/db-router.service';
import { InvalidRefreshTokenError, RefreshTokenReusedError, TokenExpiredError } from './auth.errors';
import { UsersRepository } from './users.repository';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Rows stay this long after their own expiry before the purge deletes them: a rotated token
 * presented again within its lifetime still revokes its family (reuse detection needs the row),
 * and a day absorbs clock differences between app instances and the database.
 */
export const PURGE_GRACE_SECONDS = 86_400;
const PURGE_BATCH = 1000;

/**
 * Opaque refresh tokens (256 random bits, base64url), stored only as their SHA-256. Every use
 * rotates the token; presenting a rotated token again revokes its whole family (the login it
 * came from), because either the client or an attacker holds a copy it should not.
 */
@Injectable()
export class RefreshTokens {
  constructor(
    private readonly db: DbRouter,
    private readonly repo: UsersRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Issues a token for a new family (login/register) or the next one of `familyId` (rotation); in
   * the caller's transaction when one is open.
   */
  async issue(userId: string, familyId: string = newId()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    await this.repo.insertRefreshToken({
      id: newId(),
      userId,
      familyId,
      tokenHash: sha256(token),
      expiresAt: new Date(now.getTime() + this.config.auth.refreshTtlSeconds * 1000),
      rotatedAt: null,
      revokedAt: null,
      createdAt: now,
    });
    return token;
  }

  /**
   * Exchanges `token` for a new one of the same family, returning the user id. The exchange is a
   * conditional UPDATE (`rotated_at IS NULL`), so of two concurrent uses of one token exactly one
   * wins; the loser is treated as reuse.
   */
  async rotate(token: string): Promise<{ userId: string; refreshToken: string }> {
    const hash = sha256(token);
    const row = await this.repo.findRefreshToken({ tokenHash: hash });
    if (!row) throw new InvalidRefreshTokenError();
    if (row.revokedAt) throw new InvalidRefreshTokenError('Refresh token revoked', 'REFRESH_TOKEN_REVOKED');
    if (row.rotatedAt) return this.reused(row.familyId);
    if (row.expiresAt.getTime() <= Date.now()) throw new TokenExpiredError('Refresh token');

    const next = await this.db.transaction(async () => {
      if (!(await this.repo.rotateRefreshToken(row.id, new Date()))) return undefined;
      return this.issue(row.userId, row.familyId);
    });
    if (next) return { userId: row.userId, refreshToken: next };

    // Lost the race, or the token was revoked/expired meanwhile.
    const now = await this.repo.findRefreshToken({ id: row.id });
    if (now?.revokedAt) throw new InvalidRefreshTokenError('Refresh token revoked', 'REFRESH_TOKEN_REVOKED');
    if (now?.rotatedAt) return this.reused(row.familyId);
    throw new TokenExpiredError('Refresh token');
  }

  /** Ends one session (the family of `token`) if it belongs to `userId`; unknown tokens are ignored. */
  async revokeSession(userId: string, token: string): Promise<void> {
    const row = await this.repo.findRefreshToken({ tokenHash: sha256(token), userId });
    if (row) await this.revokeFamily(row.familyId);
  }

  /**
   * Ends every session of `userId`. Revocations run as transactions: READ COMMITTED, and retried
   * on a deadlock with the purge; inside the caller's transaction when one is open (a password
   * change or reset revokes together with the new hash: the nested call joins it).
   */
  async revokeAllOf(userId: string): Promise<void> {
    await this.db.transaction(() => this.repo.revokeRefreshTokens({ userId }));
  }

  /**
   * Deletes tokens that expired more than {@link PURGE_GRACE_SECONDS} ago (any state: an expired
   * token is refused whatever it was), in batches of 1000 by `ix_refresh_tokens_expires` so a
   * large backlog never holds long locks; stops after `maxBatches` and leaves the rest for the
   * next run. Safe on several workers at once: a row is deleted once, the others skip it.
   */
  async purgeExpired(maxBatches = 100): Promise<number> {
    // The cutoff on the app's clock, as expires_at was written (UTC, by the instance that issued
    // it); the day of grace absorbs clock differences.
    const cutoff = new Date(Date.now() - PURGE_GRACE_SECONDS * 1000);
    let purged = 0;
    for (let i = 0; i < maxBatches; i++) {
      // READ COMMITTED, retried on a deadlock (a family revocation locking the same rows).
      const deleted = await this.db.transaction(() => this.repo.purgeRefreshTokens(cutoff, PURGE_BATCH));
      purged += deleted;
      if (deleted < PURGE_BATCH) break;
    }
    return purged;
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.db.transaction(() => this.repo.revokeRefreshTokens({ familyId }));
  }

  private async reused(familyId: string): Promise<never> {
    await this.revokeFamily(familyId);
    throw new RefreshTokenReusedError();
  }
}
