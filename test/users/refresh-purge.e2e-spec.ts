import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { createHash } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { QUEUES } from '../../src/infra/queue/queues';
import { PURGE_GRACE_SECONDS, PURGE_EVERY_MS, PURGE_REFRESH_TOKENS_JOB } from '../../src/users/testing';
import { login, registerUser } from '../support/auth';
import { TestApp, eventually, http, startApp } from '../support/test-app';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Refresh tokens do not pile up: the hourly `purge-refresh-tokens` job (users queue, worker)
 * deletes rows expired for longer than the grace, keeps the recent ones (reuse detection still
 * sees them) and never touches live sessions.
 */
describe('users: the refresh-token purge', () => {
  let t: TestApp;
  let db: DbRouter;
  let queue: Queue;
  beforeAll(async () => {
    t = await startApp();
    db = t.app.get(DbRouter);
    queue = t.app.get<Queue>(getQueueToken(QUEUES.users));
  });
  afterAll(() => t.close());

  const row = async (token: string) =>
    (
      await db.primaryReader().query('SELECT id FROM refresh_tokens WHERE token_hash = ?', [sha256(token)])
    )[0];
  // expires_at holds UTC written by the app: backdate it the same way.
  const expireAgo = (token: string, seconds: number) =>
    db.execute('UPDATE refresh_tokens SET expires_at = ? WHERE token_hash = ?', [
      new Date(Date.now() - seconds * 1000),
      sha256(token),
    ]);
  const refresh = (refreshToken: string) => http('POST', t.api('/auth/refresh'), { body: { refreshToken } });

  it('is scheduled hourly on the worker', async () => {
    // Scheduled at bootstrap without being awaited: give it the moment it takes.
    const scheduled = await eventually(async () =>
      (await queue.getRepeatableJobs()).find((j) => j.name === PURGE_REFRESH_TOKENS_JOB),
    );
    expect(scheduled).toEqual(expect.objectContaining({ every: PURGE_EVERY_MS }));
  });

  it('deletes tokens expired past the grace and keeps recent and live ones', async () => {
    const u = await registerUser(t);
    const first = u.refreshToken;
    const rotated = await refresh(first);
    expect(rotated.status).toBe(200);
    const second: string = rotated.body.refreshToken;
    const other = await login(t, u.email, u.password); // a second session, live
    const stale = await login(t, u.email, u.password); // a third, long expired

    await expireAgo(first, PURGE_GRACE_SECONDS + 3600); // rotated, expired 25 h ago
    await expireAgo(stale.refreshToken, PURGE_GRACE_SECONDS * 3);
    await expireAgo(second, 3600); // expired an hour ago: within the grace

    const job = await queue.add(PURGE_REFRESH_TOKENS_JOB, {}, { attempts: 1 });
    const result = (await job.finished()) as { purged: number };
    expect(result.purged).toBeGreaterThanOrEqual(2);

    expect(await row(first)).toBeUndefined();
    expect(await row(stale.refreshToken)).toBeUndefined();
    expect(await row(second)).toBeDefined();
    expect(await row(other.refreshToken)).toBeDefined();

    // The kept expired token is still known (expired, not unknown); the purged one is unknown;
    // the live session goes on.
    expect((await refresh(second)).body.code).toBe('TOKEN_EXPIRED');
    const purged = await refresh(first);
    expect(purged.status).toBe(401);
    expect(purged.body.code).not.toBe('REFRESH_TOKEN_REUSED');
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });
});
