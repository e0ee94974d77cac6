import { existsSync, readFileSync, rmSync } from 'node:fs';
import Redis from 'ioredis';
import { parseMysqlUrl } from '../../src/infra/config/app-config';
import { infraDown } from '../../scripts/infra/local-infra';
import { STATE_FILE } from './global-setup';
import { sql } from './test-database';

/** Drops this run's database and Redis keys; stops the servers only if this run started them. */
export default async function globalTeardown(): Promise<void> {
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
  if (state.started.length && !process.env.KEEP_INFRA)
    await infraDown({ only: state.started, log: () => undefined });
}
