import { createHash } from 'node:crypto';
import type { AppConfig } from '../infra/config/app-config';
import type { RefreshToken } from './refresh-token.entity';
import { PURGE_GRACE_SECONDS, RefreshTokens } from './refresh-tokens.service';
import { UsersRepository } from './users.repository';
import { automock, transactionStub } from '../../test/support/unit-stubs';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

const aToken = (over: Partial<RefreshToken> = {}): RefreshToken => ({
  id: '01936f0e-0000-7000-8000-0000000000e1',
  userId: 'u1',
  familyId: '01936f0e-0000-7000-8000-0000000000f1',
  tokenHash: sha256('presented'),
  expiresAt: new Date(Date.now() + 3_600_000),
  rotatedAt: null,
  revokedAt: null,
  createdAt: new Date(Date.now() - 60_000),
  ...over,
});

describe('RefreshTokens', () => {
  const build = () => {
    const { db, events } = transactionStub();
    const repo = automock(UsersRepository);
    const config = { auth: { refreshTtlSeconds: 600 } } as AppConfig;
    return { tokens: new RefreshTokens(db, repo, config), db, events, repo };
  };

  it('issues 256 random bits, stored only as their SHA-256, expiring after JWT_REFRESH_TTL_SECONDS', async () => {
    const { tokens, repo } = build();
    repo.insertRefreshToken.mockResolvedValue();
    const before = Date.now();
    const token = await tokens.issue('u1', 'family-1');
    const row = repo.insertRefreshToken.mock.calls[0][0];
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(row).toMatchObject({ userId: 'u1', familyId: 'family-1', tokenHash: sha256(token) });
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.expiresAt.getTime() - before).toBeGreaterThanOrEqual(600_000);
    expect(row.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(600_000);
  });

  describe('rotate', () => {
    it('spends the token and issues the next of its family in one transaction', async () => {
      const { tokens, repo, db } = build();
      repo.findRefreshToken.mockResolvedValue(aToken());
      repo.rotateRefreshToken.mockResolvedValue(true);
      repo.insertRefreshToken.mockResolvedValue();
      const { userId, refreshToken } = await tokens.rotate('presented');
      expect(userId).toBe('u1');
      expect(repo.findRefreshToken).toHaveBeenCalledWith({ tokenHash: sha256('presented') });
      expect(repo.rotateRefreshToken).toHaveBeenCalledWith(aToken().id, expect.any(Date));
      expect(repo.insertRefreshToken).toHaveBeenCalledWith(
        expect.objectContaining({ familyId: aToken().familyId, tokenHash: sha256(refreshToken) }),
      );
      expect(db.transaction).toHaveBeenCalledTimes(1);
    });

    it('refuses unknown, revoked and expired tokens without writing', async () => {
      const { tokens, repo } = build();
      repo.findRefreshToken.mockResolvedValueOnce(null);
      await expect(tokens.rotate('x')).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
      repo.findRefreshToken.mockResolvedValueOnce(aToken({ revokedAt: new Date() }));
      await expect(tokens.rotate('presented')).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REVOKED' });
      repo.findRefreshToken.mockResolvedValueOnce(aToken({ expiresAt: new Date(Date.now() - 1) }));
      await expect(tokens.rotate('presented')).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
      expect(repo.rotateRefreshToken).not.toHaveBeenCalled();
      expect(repo.revokeRefreshTokens).not.toHaveBeenCalled();
    });

    it('treats a rotated token presented again as reuse: the whole family is revoked', async () => {
      const { tokens, repo } = build();
      repo.findRefreshToken.mockResolvedValue(aToken({ rotatedAt: new Date() }));
      repo.revokeRefreshTokens.mockResolvedValue();
      await expect(tokens.rotate('presented')).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
      expect(repo.revokeRefreshTokens).toHaveBeenCalledWith({ familyId: aToken().familyId });
    });

    it('a lost race (the conditional UPDATE matched nothing) is reuse when the winner rotated it', async () => {
      const { tokens, repo } = build();
      repo.findRefreshToken
        .mockResolvedValueOnce(aToken())
        .mockResolvedValueOnce(aToken({ rotatedAt: new Date() }));
      repo.rotateRefreshToken.mockResolvedValue(false);
      repo.revokeRefreshTokens.mockResolvedValue();
      await expect(tokens.rotate('presented')).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
      expect(repo.findRefreshToken).toHaveBeenLastCalledWith({ id: aToken().id });
      expect(repo.insertRefreshToken).not.toHaveBeenCalled();
      expect(repo.revokeRefreshTokens).toHaveBeenCalledWith({ familyId: aToken().familyId });
    });
  });

  it("revokes a session only when the token is the caller's", async () => {
    const { tokens, repo } = build();
    repo.findRefreshToken.mockResolvedValueOnce(null).mockResolvedValueOnce(aToken());
    repo.revokeRefreshTokens.mockResolvedValue();
    await tokens.revokeSession('u2', 'presented');
    expect(repo.findRefreshToken).toHaveBeenCalledWith({ tokenHash: sha256('presented'), userId: 'u2' });
    expect(repo.revokeRefreshTokens).not.toHaveBeenCalled();
    await tokens.revokeSession('u1', 'presented');
    expect(repo.revokeRefreshTokens).toHaveBeenCalledWith({ familyId: aToken().familyId });
  });

  it('revokes every session of a user inside the open transaction (a password change joins it)', async () => {
    const { tokens, repo, db, events } = build();
    repo.revokeRefreshTokens.mockResolvedValue();
    await db.transaction(async () => {
      await tokens.revokeAllOf('u1');
      expect(events).toEqual([]);
    });
    expect(repo.revokeRefreshTokens).toHaveBeenCalledWith({ userId: 'u1' });
    expect(events).toEqual(['commit']);
  });

  it('purges in batches of 1000 until a batch is short, each its own transaction, with a day of grace', async () => {
    const { tokens, repo, db } = build();
    repo.purgeRefreshTokens.mockResolvedValueOnce(1000).mockResolvedValueOnce(1000).mockResolvedValueOnce(7);
    const before = Date.now();
    await expect(tokens.purgeExpired()).resolves.toBe(2007);
    expect(repo.purgeRefreshTokens).toHaveBeenCalledTimes(3);
    expect(db.transaction).toHaveBeenCalledTimes(3);
    const [cutoff, limit] = repo.purgeRefreshTokens.mock.calls[0];
    expect(limit).toBe(1000);
    expect(before - PURGE_GRACE_SECONDS * 1000 - cutoff.getTime()).toBeLessThanOrEqual(0);
    expect(Date.now() - PURGE_GRACE_SECONDS * 1000 - cutoff.getTime()).toBeGreaterThanOrEqual(0);
    repo.purgeRefreshTokens.mockResolvedValue(1000);
    await expect(tokens.purgeExpired(2)).resolves.toBe(2000);
  });
});
