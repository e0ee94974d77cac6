import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Redis from 'ioredis';
import { parseMysqlUrl } from '../../src/infra/config/app-config';
import { infraDown } from '../../scripts/infra/local-infra';
import type { TestRedisCluster } from '../support/redis-cluster';
import { CLUSTER_KEY, STATE_FILE } from './global-setup';
import { sql } from './test-database';

/**
 * Drops this run's database and Redis keys; stops the servers only if this run started them and
 * no other run of this checkout is still using them.
 */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { [CLUSTER_KEY]?: TestRedisCluster };
  const cluster = holder[CLUSTER_KEY];
  delete holder[CLUSTER_KEY];
  await cluster?.stop();
  if (!existsSync(STATE_FILE)) return;
  const state = JSON.parse(readFileSync(STATE_FILE, 'utf8')) as {
    database: string;
    started: string[];
    primaryUrl: string;
    redisUrl: string;
    prefix: string;
  };
  rmSync(STATE_FILE, { force: true });
  if (!process.env.KEEP_TEST_DB) {
    const target = parseMysqlUrl('DB_PRIMARY_URL', state.primaryUrl, []);
    if (target) await sql(target, `DROP DATABASE IF EXISTS \`${state.database}\``).catch(() => undefined);
    const redis = new Redis(state.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${state.prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
    } catch {
      /* Redis gone: nothing to clean */
    } finally {
      redis.disconnect();
    }
  }
  if (!state.started.length || process.env.KEEP_INFRA) return;
  // Another run (another jest process in this checkout) still uses the servers this run
  // started: hand them over, so the last run out stops them instead of cutting the others off.
  const heir = otherRuns().find((file) => {
    try {
      const other = JSON.parse(readFileSync(file, 'utf8')) as { started?: string[] };
      writeFileSync(
        file,
        JSON.stringify({ ...other, started: [...(other.started ?? []), ...state.started] }),
      );
      return true;
    } catch {
      return false;
    }
  });
  if (!heir) await infraDown({ only: state.started, log: () => undefined });
}

/** State files of other live jest runs of this checkout (a dead run's file is ignored). */
function otherRuns(): string[] {
  const dir = dirname(STATE_FILE);
  return readdirSync(dir)
    .filter((f) => /^test-run-\d+\.json$/.test(f))
    .map((f) => ({ file: join(dir, f), pid: Number(f.slice('test-run-'.length, -'.json'.length)) }))
    .filter(({ file, pid }) => file !== STATE_FILE && alive(pid))
    .map(({ file }) => file);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
