/**
 * Starts (or reuses) the local infrastructure with the same script as `npm run infra:up`, for
 * each server the environment does not name elsewhere (scripts/infra/infra-plan.ts), then
 * creates a fresh database for this run on the primary, waits for it on the replicas, applies
 * the migrations, and hands the URLs to the test workers through the environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MysqlTarget, loadConfig } from '../../src/infra/config/app-config';
import { runMigrations } from '../../src/infra/database/migrate';
import { resolveLocalInfra } from '../../scripts/infra/infra-plan';
import { infraDown, infraUp } from '../../scripts/infra/local-infra';
import { TestRedisCluster } from '../support/redis-cluster';
import { sql, waitForReplication, withDatabase } from './test-database';

// One file per jest process (setup and teardown run in it), so concurrent runs never drop each other's database.
export const STATE_FILE = join(__dirname, '..', '..', '.local', `test-run-${process.pid}.json`);

/**
 * The Redis Cluster of the `e2e-cluster` project (3 masters + 3 replicas, AOF, free ports), kept on
 * globalThis for the global teardown (jest runs both in this process).
 */
export const CLUSTER_KEY = Symbol.for('nest-commerce.test.redisCluster');
type WithCluster = { [CLUSTER_KEY]?: TestRedisCluster };

/**
 * Whether this jest run includes the e2e-cluster project. Jest hands the global setup no list of
 * the projects it runs (`--selectProjects` stays in its argv), so the command line is read: no
 * `--selectProjects` means every project.
 */
export function runsClusterProject(argv: readonly string[] = process.argv): boolean {
  const picked: string[] = [];
  let any = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--selectProjects=')) {
      any = true;
      picked.push(...argv[i].slice('--selectProjects='.length).split(','));
    } else if (argv[i] === '--selectProjects') {
      any = true;
      for (let j = i + 1; j < argv.length && !argv[j].startsWith('-'); j++) picked.push(argv[j]);
    }
  }
  return !any || picked.includes('e2e-cluster');
}

export default async function globalSetup(): Promise<void> {
  // Servers this run spawned: stopped again if the setup fails after starting them.
  const started = new Set<string>();
  let created: { target: MysqlTarget; database: string } | undefined;
  // Started beside the other servers when this run includes the cluster project.
  const cluster = runsClusterProject() ? TestRedisCluster.start(3, 1) : undefined;
  cluster?.catch(() => undefined); // awaited below; a failure there must not go unhandled meanwhile
  try {
    // Same resolver as `npm run up` (each component the environment or .env does not name
    // elsewhere, on the same INFRA_* ports); the tests bring their own SMTP servers.
    const plan = resolveLocalInfra({ mail: false });
    if (plan.components.length) {
      const t0 = Date.now();
      const res = await infraUp({
        only: plan.components,
        log: () => undefined,
        onStart: (c) => started.add(c),
      });
      console.log(
        `\ninfra: ${res.engine}, started [${res.started.join(', ')}], reused [${res.reused.join(', ')}] in ${Date.now() - t0} ms`,
      );
    }
    Object.assign(process.env, plan.env);
    const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const database = `nc_test_${runId}`;
    const base = loadConfig({ ...process.env, NODE_ENV: 'test' });
    await sql(
      base.db.primary,
      `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    created = { target: base.db.primary, database };
    process.env.DB_PRIMARY_URL = withDatabase(base.db.primary.url, database);
    process.env.DB_REPLICA_URLS = base.db.replicas.map((r) => withDatabase(r.url, database)).join(',');
    const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
    await waitForReplication(config.db.replicas, database);
    await runMigrations(config.db.primary, () => undefined);
    process.env.NODE_ENV = 'test';
    process.env.REDIS_PREFIX = `t${runId}`;
    process.env.LOG_LEVEL ??= 'warn';
    process.env.HTTP_LOG = 'false';
    // Every suite registers users from 127.0.0.1; the registration limit is tested on its own apps.
    process.env.REGISTER_RATE_LIMIT ??= '1000000';
    // Likewise the per-IP login cap and the account lock (the hostile-input suite sends many wrong
    // passwords for one account and must leave the users table unchanged): tested on their own apps.
    process.env.LOGIN_IP_MAX_ATTEMPTS ??= '1000000';
    process.env.LOGIN_LOCK_AFTER_FAILURES ??= '1000000';
    // Suites place many orders as one customer (races, idempotency, payments): the per-customer
    // order caps and rate are tested on their own apps (test/orders/order-limits.e2e-spec.ts).
    process.env.ORDER_MAX_UNPAID_ORDERS ??= '1000000';
    process.env.ORDER_MAX_UNPAID_UNITS_PER_SKU ??= '1000000';
    process.env.ORDER_UNVERIFIED_MAX_UNPAID_ORDERS ??= '1000000';
    process.env.ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU ??= '1000000';
    process.env.ORDER_RATE_LIMIT ??= '1000000000';
    // Suites register dozens of users at once (argon2, one hashing slot on 2 cores): on a loaded
    // machine the last would wait past the default 3 s and get AUTH_BUSY. Tested on its own apps.
    process.env.PASSWORD_HASH_MAX_WAIT_MS ??= '120000';
    // Suites put hundreds of concurrent transactions on one hot stock row, on 2 cores shared with
    // the replica; semi-synchronous replication (AFTER_SYNC) holds that row's lock for a replica
    // round trip per commit, which a loaded machine stretches to tens of ms. The shipped 3 s bound on
    // the wait for a pool connection would then shed load that these suites exist to push through;
    // the bound itself is proven by src/infra/database/pool-acquire.spec.ts.
    process.env.DB_ACQUIRE_TIMEOUT_MS ??= '30000';
    process.env.TEST_DATABASE = database;
    if (cluster) {
      const c = await cluster;
      (globalThis as WithCluster)[CLUSTER_KEY] = c;
      process.env.TEST_REDIS_CLUSTER_URL = c.url;
      console.log(`redis cluster (project e2e-cluster): ${c.url}`);
    }
    mkdirSync(join(STATE_FILE, '..'), { recursive: true });
    writeFileSync(
      STATE_FILE,
      JSON.stringify({
        database,
        started: [...started],
        primaryUrl: config.db.primary.url,
        redisUrl: config.redis.url,
        prefix: process.env.REDIS_PREFIX,
      }),
    );
  } catch (err) {
    // Jest runs no global teardown when the setup fails: undo here what this run did.
    await cluster?.then((c) => c.stop()).catch(() => undefined);
    if (created && !process.env.KEEP_TEST_DB)
      await sql(created.target, `DROP DATABASE IF EXISTS \`${created.database}\``).catch(() => undefined);
    if (started.size && !process.env.KEEP_INFRA)
      await infraDown({ only: [...started], log: () => undefined }).catch(() => undefined);
    throw err;
  }
}
