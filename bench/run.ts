/**
 * `npm run bench [-- --quick] [-- --only a,b]`: the benchmark suite. In ONE run it measures the
 * baselines (bare Nest+Fastify hello-world, the order transaction with raw mysql2, the flash-sale
 * Lua script called directly from ioredis) and the scenarios against the built app, and reports
 * each scenario's ratio to its baseline. Each ratio scenario runs BENCH_REPEAT times (default 3,
 * 1 with --quick), its baseline re-measured around every run, and the run with the median ratio is
 * reported (the others' ratios in its note). Writes bench/results/<date>.{json,md,svg} and
 * bench/results/latest.{md,svg} (embedded in the README).
 */
import { ChildProcess, execSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import Redis from 'ioredis';
import { createPool } from 'mysql2/promise';
import { JwtService } from '@nestjs/jwt';
import { resolveLocalInfra } from '../scripts/infra/infra-plan';
import { Component, infraDown, infraProcesses, infraUp } from '../scripts/infra/local-infra';
import { ensureBuilt } from '../scripts/lib/build';
import { freePort, jsonRequest as json } from '../scripts/lib/net';
import { HttpLoad, LoadResult, httpLoad, loopLoad } from './lib/load';
import { renderReport } from './lib/report';
import { cartRequests, createProduct, mysqlAccount, openFlashSale, recreateDatabase } from './lib/fixtures';
import { PURCHASE_SCRIPT } from '../src/flash-sale/testing';
import { LocalRedisCluster } from '../scripts/infra/redis-cluster';

const ROOT = join(__dirname, '..');
/**
 * The checkout whose built app (dist/) is measured: this one, or BENCH_APP_ROOT — e.g. a detached
 * worktree of an older commit, built there — so that two commits are compared under the same
 * harness (scenarios, processes beside the app, load generator). Its migrations run from there too.
 */
const APP_ROOT = process.env.BENCH_APP_ROOT ?? ROOT;
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const ONLY = args
  .find((a) => a.startsWith('--only='))
  ?.slice(7)
  .split(',');
const DURATION = Number(process.env.BENCH_DURATION ?? (QUICK ? 2 : 10));
/** Runs of each ratio scenario; the one with the median ratio is reported (issue 26). */
const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? (QUICK ? 1 : 3)));
/** Each scenario first runs this long unmeasured: the app's JIT, pools and caches warm up as in production. */
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 1 : 3));
/** `--seed-orders=N`: seed N orders (npm run seed) into the bench database first; history is read on them. */
const SEED_ORDERS = Number(args.find((a) => a.startsWith('--seed-orders='))?.slice(14) ?? 0);
/** `--seed-products=N`: seed N products first (at least 2,000 when orders are seeded); cold search runs on them. */
const SEED_PRODUCTS = Number(args.find((a) => a.startsWith('--seed-products='))?.slice(16) ?? 0);
const CONNECTIONS = 50;
const POOL = 20;
// Free ports picked at start: a second checkout's bench, or anything else, may hold any fixed one.
let APP_PORT = 0;
/** A second api instance with access logs off (HTTP_LOG=false), measured beside the shipped one. */
let QUIET_PORT = 0;
let QUIET_GRPC_PORT = 0;
let WORKER_PORT = 0;
let GRPC_PORT = 0;
let HELLO_PORT = 0;
/** The login-flood scenario: its flood's connections, and the catalog probe's fixed request rate. */
const FLOOD_CONNECTIONS = 100;
const FLOOD_PROBE_RATE = 1000;
const SECRET = 'bench-jwt-secret-0123456789-0123456789';
const BENCH_DB = 'nc_bench';

interface Row extends LoadResult {
  /** CPU of the measured server process over the scenario (warmup included), % of one core. */
  serverCpu?: number;
  /** CPU of this process (the load generator), % of one core. */
  loadCpu?: number;
  /** CPU of the worker instance, the MySQL servers (primary + replica) and Redis, % of one core. */
  othersCpu?: { worker?: number; mysql?: number; redis?: number };
  /** The baseline re-measured around this scenario (mean of right before and right after). */
  baselineRps?: number;
  baseline?: string;
  ratio?: number;
  target?: number;
  note?: string;
  /** The follow-up drain: CPU per order (µs) of the worker (its start subtracted) and of the SMTP sink. */
  workerCpuUsPerOrder?: number;
  smtpSinkCpuUsPerOrder?: number;
}

const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitHttp(url: string, timeoutMs = 90000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      /* not up */
    }
    await sleep(300);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/** Deletes every key of every bench run (prefix `bench<time>:`) from the bench's Redis. */
async function dropBenchKeys(url: string): Promise<number> {
  const r = new Redis(url);
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', 'bench*:*', 'COUNT', 5000);
      cursor = next;
      if (keys.length) n += await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
  return n;
}

/** All cores' busy share over `ms` (Linux /proc/stat; 0 where it cannot be read). */
async function machineBusy(ms: number): Promise<number> {
  const read = () => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      const idle = f[3] + (f[4] ?? 0); // idle + iowait
      return { idle, total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return undefined;
    }
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (!a || !b || b.total === a.total) return 0;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
/** Between scenarios the machine counts as quiet below this share of busy CPU. */
const QUIET = 0.15;

/** CPU time (utime + stime) of a process, in seconds, from /proc (Linux). */
function procCpuSec(pid: number): { user: number; sys: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 }; // fields 14, 15: clock ticks (USER_HZ 100)
  } catch {
    return undefined;
  }
}

/** A process's CPU time (user + system) in seconds so far, or undefined. */
function cpuSec(pid: number | undefined): number | undefined {
  const c = pid ? procCpuSec(pid) : undefined;
  return c && c.user + c.sys;
}

/** The processes besides the measured server whose CPU each scenario reports. */
interface Others {
  worker?: number;
  mysql: number[];
  redis?: number;
}

/**
 * Measures how busy the server, the other processes (the worker, MySQL primary + replica, Redis)
 * and the load generator were during a scenario: a server well under 100% of its core was not
 * the bottleneck (the load generator or a dependency was), and on 2 cores they all compete.
 */
function cpuMeter(
  pid: number | undefined,
  others: Others,
): () => {
  serverPct?: number;
  serverSysPct?: number;
  loadPct: number;
  othersPct: { worker?: number; mysql?: number; redis?: number };
} {
  const t0 = Date.now();
  const s0 = pid ? procCpuSec(pid) : undefined;
  const l0 = process.cpuUsage();
  const total = (pids: (number | undefined)[]) => {
    const got = pids.filter((p): p is number => !!p).map(procCpuSec);
    return got.length && got.every(Boolean) ? got.reduce((a, c) => a + c!.user + c!.sys, 0) : undefined;
  };
  const o0 = { worker: total([others.worker]), mysql: total(others.mysql), redis: total([others.redis]) };
  return () => {
    const wall = (Date.now() - t0) / 1000;
    const s1 = pid ? procCpuSec(pid) : undefined;
    const l = process.cpuUsage(l0);
    const pct = (sec: number) => Math.round((sec / wall) * 100);
    const o1 = { worker: total([others.worker]), mysql: total(others.mysql), redis: total([others.redis]) };
    const diff = (a?: number, b?: number) => (a !== undefined && b !== undefined ? pct(b - a) : undefined);
    return {
      serverPct: s0 && s1 ? pct(s1.user + s1.sys - s0.user - s0.sys) : undefined,
      serverSysPct: s0 && s1 ? pct(s1.sys - s0.sys) : undefined,
      loadPct: Math.round(((l.user + l.system) / 1e6 / wall) * 100),
      othersPct: {
        worker: diff(o0.worker, o1.worker),
        mysql: diff(o0.mysql, o1.mysql),
        redis: diff(o0.redis, o1.redis),
      },
    };
  };
}

/** The pid of the Redis server when it runs on this machine (INFO reports it; checked in /proc). */
async function redisPid(url: string): Promise<number | undefined> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const pid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]);
    return pid && procCpuSec(pid) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/** The pid of a MySQL server when it runs on this machine (its pid file is readable), else undefined. */
async function mysqlPid(target: { host: string; port: number; user: string; password: string }) {
  try {
    const [[row]] = (await bootstrapQuery(target, 'SELECT @@pid_file AS f')) as [{ f: string }[]];
    return Number(readFileSync(row.f, 'utf8').trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** The app processes' stdout files (their logs), removed at the end unless BENCH_KEEP_LOGS is set. */
const logFiles: string[] = [];

function start(cmd: string, argv: string[], env: NodeJS.ProcessEnv, log: string): ChildProcess {
  // stdout (the JSON logs, access lines included) to a file, as a log driver would take it; only
  // the tail of stderr is kept, for the exit message.
  const file = join(tmpdir(), `nc-bench-${process.pid}-${log}.log`);
  const fd = openSync(file, 'w');
  logFiles.push(file);
  const c = spawn(cmd, argv, { env, stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let out = '';
  c.stderr!.on('data', (d) => (out = (out + String(d)).slice(-3000)));
  c.on('exit', (code) => {
    if (code && code !== 143) {
      let tail = '';
      try {
        tail = readFileSync(file, 'utf8').slice(-3000);
      } catch {
        /* gone */
      }
      console.error(`${log} exited ${code}:\n${tail}${out}`);
    }
  });
  children.push(c);
  return c;
}

/** An access token for a customer id, signed as the app signs them (scenarios with many buyers). */
const customerToken = (sub: string): string =>
  new JwtService({ secret: SECRET }).sign({ sub, role: 'customer' }, { algorithm: 'HS256', expiresIn: 3600 });

async function bootstrapQuery(
  target: { host: string; port: number; user: string; password: string },
  sql: string,
  params: unknown[] = [],
): Promise<unknown> {
  const p = createPool({ ...target, connectionLimit: 1 });
  try {
    return await p.query(sql, params);
  } finally {
    await p.end();
  }
}

/** What this run started and stops again on success, failure and Ctrl-C: the app processes, and servers it started. */
const owned = {
  abort: new AbortController(),
  infra: new Set<Component>(),
  infraUp: undefined as Promise<unknown> | undefined,
  stopping: undefined as Promise<void> | undefined,
};

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(
    `bench: ${QUICK ? 'quick' : 'full'} run, ${DURATION}s per scenario, ${CONNECTIONS} connections`,
  );
  [APP_PORT, WORKER_PORT, GRPC_PORT, HELLO_PORT, QUIET_PORT, QUIET_GRPC_PORT] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // The same resolver as `npm run up`: this checkout's own servers on the INFRA_* ports (a server
  // another checkout started there is refused), or the servers the environment names.
  const local = resolveLocalInfra({ mail: true });
  if (local.components.length) {
    owned.infraUp = infraUp({
      only: local.components,
      log: () => undefined,
      signal: owned.abort.signal,
      onStart: (c) => owned.infra.add(c),
    });
    await owned.infraUp;
  }
  if (owned.stopping) return;
  const infra = {
    endpoints: {
      primaryUrl: local.urls.primary,
      replicaUrls: local.urls.replicas,
      redisUrl: local.urls.redis,
      smtpUrl: local.urls.smtp,
    },
  };
  if (owned.infra.size)
    console.log(`started local ${[...owned.infra].join(', ')} (stopped again at the end)`);
  // Every run has its own Redis prefix (bench<time>); what earlier runs left there (kept Bull
  // jobs, pending expiry jobs, streams) would make each of Redis's snapshots and AOF rewrites —
  // forks that take CPU from the scenarios — bigger with every run. Start from none of it.
  const dropped = await dropBenchKeys(infra.endpoints.redisUrl);
  if (dropped) console.log(`removed ${dropped} Redis keys left by earlier bench runs`);
  const admin = mysqlAccount(infra.endpoints.primaryUrl);
  const bootstrap = createPool({ ...admin, connectionLimit: 1 });
  await recreateDatabase(bootstrap, BENCH_DB);
  await bootstrap.end();
  const dbUrl = (u: string) => {
    const x = new URL(u);
    x.pathname = `/${BENCH_DB}`;
    return x.toString();
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    APP_ROLE: 'api',
    PORT: String(APP_PORT),
    GRPC_PORT: String(GRPC_PORT),
    DB_PRIMARY_URL: dbUrl(infra.endpoints.primaryUrl),
    DB_REPLICA_URLS: infra.endpoints.replicaUrls.map(dbUrl).join(','),
    REDIS_URL: infra.endpoints.redisUrl,
    REDIS_PREFIX: `bench${Date.now().toString(36)}`,
    SMTP_URL: infra.endpoints.smtpUrl,
    JWT_SECRET: SECRET,
    PAYMENT_WEBHOOK_SECRET: 'bench-webhook-secret-0123',
    ADMIN_EMAIL: 'admin@bench.local',
    ADMIN_PASSWORD: 'bench-admin-password',
    PUBLIC_WEB_URL: 'http://shop.bench.local',
    // As shipped (.env.example, compose, k8s): info level with the access log on, one line per
    // request on stdout — which goes to a file, as a container runtime's log driver takes it.
    // The same scenarios against an instance with HTTP_LOG=false are reported beside some rows.
    // BENCH_LOG_LEVEL / BENCH_HTTP_LOG override them for A/B comparisons.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    HTTP_LOG: process.env.BENCH_HTTP_LOG ?? 'true',
    DB_POOL_SIZE: String(POOL),
    SEED_DEMO_DATA: 'false',
    // The flash-sale scenarios hammer with one user: lift the per-user bot limit so they measure
    // the purchase path (Lua script / in-process flag), not the throttler's 429.
    FLASH_SALE_PURCHASE_RATE_LIMIT: '1000000',
    // The login scenario sends 50 concurrent logins from one address: the per-IP cap (50 attempts
    // in flight or failed per minute) would answer most of them 429 and measure the limiter.
    LOGIN_IP_MAX_ATTEMPTS: '10000000',
    // The order scenarios place tens of thousands of orders as one customer: the per-customer
    // caps and rate are lifted so they measure the order path — whose cap statements still run
    // in every order's batch (docs/decisions/0018-order-limits.md) — not 409/429 answers.
    ORDER_MAX_UNPAID_ORDERS: '1000000',
    ORDER_MAX_UNPAID_UNITS_PER_SKU: '1000000',
    ORDER_UNVERIFIED_MAX_UNPAID_ORDERS: '1000000',
    ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU: '1000000',
    ORDER_RATE_LIMIT: '1000000000',
    // The admin's and the bench customer's tokens come from one login at the start, and a full
    // run on a slow host lasts longer than the shipped 15 minutes: the later scenarios then
    // measured 401 TOKEN_EXPIRED answers. Verification costs the same whatever the lifetime (a
    // verified token is cached until it expires either way).
    JWT_ACCESS_TTL_SECONDS: '86400',
  };

  ensureBuilt(APP_ROOT);
  if (APP_ROOT !== ROOT) console.log(`measuring the app built in ${APP_ROOT} (BENCH_APP_ROOT)`);
  execSync('node dist/infra/database/migrate.js', { cwd: APP_ROOT, env, stdio: 'ignore' });
  let seedNote = '';
  if (SEED_ORDERS > 0 || SEED_PRODUCTS > 0) {
    const products = Math.max(SEED_ORDERS > 0 ? 2000 : 0, SEED_PRODUCTS);
    const users = SEED_ORDERS > 0 ? Math.max(1000, Math.round(SEED_ORDERS / 100)) : 0;
    console.log(`seeding ${products} products and ${SEED_ORDERS} orders (npm run seed)...`);
    const t = Date.now();
    execSync(
      `node -r ts-node/register/transpile-only scripts/seed.ts --orders ${SEED_ORDERS} --users ${users} --products ${products}`,
      { cwd: ROOT, env, stdio: 'inherit' },
    );
    const sec = (Date.now() - t) / 1000;
    seedNote = `seeded ${products} products and ${SEED_ORDERS} orders in ${Math.round(sec)} s`;
    console.log(seedNote);
    // The replicas apply those rows too: measure only once they have caught up (MariaDB GTIDs).
    const t2 = Date.now();
    const [[{ pos }]] = (await bootstrapQuery(admin, 'SELECT @@gtid_binlog_pos AS pos')) as [
      { pos: string }[],
    ];
    for (const r of infra.endpoints.replicaUrls) {
      const u = new URL(r);
      await bootstrapQuery(
        { ...admin, host: u.hostname, port: Number(u.port) },
        'SELECT MASTER_GTID_WAIT(?, 900) AS waited',
        [pos],
      );
    }
    console.log(`replicas caught up in ${Math.round((Date.now() - t2) / 1000)} s`);
  }

  const hello = start(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      join(__dirname, 'baselines', 'hello-world.ts'),
      String(HELLO_PORT),
    ],
    env,
    'hello-world',
  );
  // BENCH_APP_NODE_ARGS (e.g. `--prof`) profiles the app under the same load.
  const appArgs = (process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const app = start(process.execPath, [...appArgs, join(APP_ROOT, 'dist', 'main.js')], env, 'app');
  const quiet = start(
    process.execPath,
    [join(APP_ROOT, 'dist', 'main.js')],
    { ...env, HTTP_LOG: 'false', PORT: String(QUIET_PORT), GRPC_PORT: String(QUIET_GRPC_PORT) },
    'app-logs-off',
  );
  // As deployed: the api instance serves, a separate worker instance runs the queues, the outbox
  // relay and the flash-sale consumers. Its CPU is reported beside the server's (same 2 cores).
  // BENCH_WORKER_NODE_ARGS (e.g. `--cpu-prof`) profiles the worker the same way.
  const workerArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const startWorker = () =>
    start(
      process.execPath,
      [...workerArgs, join(APP_ROOT, 'dist', 'main.js')],
      { ...env, APP_ROLE: 'worker', PORT: String(WORKER_PORT) },
      'worker',
    );
  let worker = startWorker();
  let workerUp = true;
  const stopWorker = () =>
    new Promise<void>((resolve) => {
      workerUp = false;
      worker.once('exit', () => resolve());
      worker.kill('SIGTERM');
    });
  await waitHttp(`http://127.0.0.1:${HELLO_PORT}/`);
  await waitHttp(`http://127.0.0.1:${APP_PORT}/health/ready`);
  await waitHttp(`http://127.0.0.1:${QUIET_PORT}/health/ready`);
  await waitHttp(`http://127.0.0.1:${WORKER_PORT}/health/ready`);
  // What a worker's start costs (nothing to drain yet): the drain scenario, which restarts the
  // worker, subtracts it to report the CPU each order's follow-up costs.
  const workerBootCpu = cpuSec(worker.pid);
  // The SMTP sink (the local mail catcher; unknown when the servers are elsewhere or in Docker).
  const smtpSinkPid = infraProcesses().mail.find((p) => procCpuSec(p));
  const others: Others = {
    worker: worker.pid,
    mysql: (
      await Promise.all(
        [infra.endpoints.primaryUrl, ...infra.endpoints.replicaUrls].map((u) => {
          const x = new URL(u);
          return mysqlPid({ ...admin, host: x.hostname, port: Number(x.port) });
        }),
      )
    ).filter((p): p is number => !!p),
    redis: await redisPid(infra.endpoints.redisUrl),
  };
  const api = (p: string) => `http://127.0.0.1:${APP_PORT}/api/v1${p}`;
  const quietApi = (p: string) => `http://127.0.0.1:${QUIET_PORT}/api/v1${p}`;
  const LOGS_OFF = ', logs off (HTTP_LOG=false)';

  const pool = createPool({ ...admin, database: BENCH_DB, connectionLimit: POOL });
  const adminLogin = await json('POST', api('/auth/login'), {
    email: env.ADMIN_EMAIL,
    password: env.ADMIN_PASSWORD,
  });
  const adminToken: string = adminLogin.body?.accessToken;
  const customer = await json('POST', api('/auth/register'), {
    email: `bench-${randomUUID()}@bench.local`,
    password: 'bench-password-1',
    name: 'Bench',
  });
  const userToken: string = customer.body?.accessToken;
  const userId: string = customer.body?.user?.id;

  const rows: Row[] = [];
  const want = (name: string) => !ONLY || ONLY.some((o) => name.includes(o));
  /** Short re-measurements of a baseline, by baseline row name (registered with the baselines). */
  const brackets = new Map<string, () => Promise<LoadResult>>();
  const BRACKET_SEC = QUICK ? 1 : 4;
  /** One run of a scenario, the baseline re-measured right before and right after it. */
  const measure = async (
    name: string,
    fn: () => Promise<LoadResult>,
    meta: Partial<Row>,
    server: ChildProcess | null,
  ): Promise<Row> => {
    // The baseline is measured again right before and right after the scenario: this
    // machine's speed drifts by a quarter within one run (shared host), and a ratio to a
    // baseline taken minutes earlier would measure the drift.
    const bracket = meta.baseline ? brackets.get(meta.baseline) : undefined;
    const before = bracket ? (await bracket()).rps : undefined;
    const cpu = cpuMeter(
      server?.pid,
      server === app || server === quiet
        ? { ...others, worker: worker.pid }
        : { ...others, worker: undefined },
    );
    const r = await fn();
    const { serverPct, serverSysPct, loadPct, othersPct } = cpu();
    // After the scenario's follow-up work, as the one before was measured on a settled machine.
    if (bracket) await settle();
    const after = bracket ? (await bracket()).rps : undefined;
    const baselineRps =
      before !== undefined && after !== undefined ? Math.round((before + after) / 2) : undefined;
    console.log(
      `${r.rps} req/s p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors} non2xx ${r.non2xx} cpu server ${serverPct ?? '?'}% (kernel ${serverSysPct ?? '?'}%) worker ${othersPct.worker ?? '-'}% mysql ${othersPct.mysql ?? '?'}% redis ${othersPct.redis ?? '?'}% load ${loadPct}%` +
        (bracket ? ` | baseline around it: ${before} before, ${after} after` : ''),
    );
    return {
      ...meta,
      ...r,
      name,
      serverCpu: serverPct,
      loadCpu: loadPct,
      othersCpu: othersPct,
      baselineRps,
    };
  };
  const run = async (
    name: string,
    fn: () => Promise<LoadResult>,
    meta: Partial<Row> & { once?: boolean } = {},
    server: ChildProcess | null = app,
  ) => {
    if (!want(name)) return;
    const { once, ...shown } = meta;
    // A ratio scenario runs REPEAT times (its baseline bracketed each time) and reports the run
    // whose ratio is the median: one run's ratio moves by ±20 % with this machine's drift.
    const reps = shown.baseline && !once ? REPEAT : 1;
    const runs: Row[] = [];
    try {
      for (let i = 1; i <= reps; i++) {
        process.stdout.write(`  ${name}${reps > 1 ? ` (${i}/${reps})` : ''} ... `);
        const row = await measure(name, fn, shown, server);
        runs.push(row);
        if (i < reps) await settle();
      }
      const ratioOf = (x: Row) => (x.baselineRps ? x.rps / x.baselineRps : x.rps);
      const median = [...runs].sort((a, b) => ratioOf(a) - ratioOf(b))[Math.floor(runs.length / 2)];
      if (reps > 1) {
        const ratios = runs.map((x) => ratioOf(x).toFixed(2)).join(' / ');
        median.note = [median.note, `median of ${reps} runs; their ratios ${ratios}`]
          .filter(Boolean)
          .join('; ');
        console.log(`    → median ratio ${ratioOf(median).toFixed(2)} (${ratios})`);
      }
      rows.push(median);
    } catch (err) {
      rows.push({
        name,
        rps: 0,
        p50: 0,
        p99: 0,
        errors: 1,
        non2xx: 0,
        requests: 0,
        ...shown,
        note: `failed: ${(err as Error).message}`,
      });
      console.log(`FAILED: ${(err as Error).message}`);
    }
    await settle();
  };
  // Between scenarios: let the follow-up work of the last one (outbox events, mails, audits)
  // finish — every queue idle and no outbox row waiting — so each scenario is measured alone. Its own follow-up work still runs during it.
  /**
   * Waits until the worker has done what the last scenario left (queues idle, outbox relayed;
   * skipped while the worker is stopped) and, with `quiet`, until the machine is idle again.
   */
  // Queue counts are in the admin view of readiness only (anonymous callers get the status).
  let readinessToken = adminToken;
  const adminReadiness = async () => {
    const url = `http://127.0.0.1:${APP_PORT}/health/ready`;
    let ready = await json('GET', url, undefined, readinessToken);
    if (ready.body && !ready.body.queues) {
      // The token expired during a long run: log in again.
      const login = await json('POST', api('/auth/login'), {
        email: env.ADMIN_EMAIL,
        password: env.ADMIN_PASSWORD,
      });
      readinessToken = login.body?.accessToken ?? readinessToken;
      ready = await json('GET', url, undefined, readinessToken);
    }
    return ready;
  };
  const settle = async (quiet = true) => {
    const until = Date.now() + (QUICK ? 20_000 : quiet ? 90_000 : 300_000);
    while (workerUp && Date.now() < until) {
      const ready = await adminReadiness().catch(() => undefined);
      const queues = Object.values(
        (ready?.body?.queues ?? {}) as Record<string, { waiting?: number; active?: number }>,
      );
      // ...and the outbox: events not yet relayed become jobs (and mails) a moment later.
      const [[pending]] = (await pool
        .query('SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL')
        .catch(() => [[{ n: 0 }]])) as unknown as [{ n: number }[]];
      if (queues.length && queues.every((q) => !q.waiting && !q.active) && !Number(pending.n)) break;
      await sleep(250);
    }
    if (!quiet) return;
    // ...and the machine: what a scenario leaves to the servers (Redis rewriting its AOF after
    // the Lua baseline's 600k writes, the replica applying the order baseline's binlog) must not
    // be measured as the next scenario's cost. Wait until all cores are mostly idle again.
    const quietBy = Date.now() + (QUICK ? 10_000 : 60_000);
    let busy = 1;
    while (Date.now() < quietBy && (busy = await machineBusy(500)) > QUIET) await sleep(250);
    if (busy > QUIET) console.log(`    (machine still ${Math.round(busy * 100)}% busy; measuring anyway)`);
  };
  const load = (l: Omit<HttpLoad, 'connections' | 'durationSec'>) => () =>
    httpLoad({ connections: CONNECTIONS, durationSec: DURATION, warmupSec: WARMUP, ...l });

  // ---- baselines ----
  const helloLoad = { name: 'hello', url: `http://127.0.0.1:${HELLO_PORT}/` };
  await run('baseline: nest+fastify hello-world', load(helloLoad), {}, hello);
  brackets.set('baseline: nest+fastify hello-world', () =>
    httpLoad({ ...helloLoad, connections: CONNECTIONS, durationSec: BRACKET_SEC, warmupSec: 1 }),
  );

  await pool.query(
    `CREATE TABLE bench_inventory (sku VARCHAR(64) PRIMARY KEY, on_hand INT NOT NULL, reserved INT NOT NULL) ENGINE=InnoDB`,
  );
  await pool.query(
    `CREATE TABLE bench_orders (id CHAR(36) PRIMARY KEY, user_id CHAR(36) NOT NULL, status VARCHAR(24) NOT NULL, total_minor INT NOT NULL, currency CHAR(3) NOT NULL, created_at DATETIME(3) NOT NULL, KEY (user_id, created_at, id)) ENGINE=InnoDB`,
  );
  await pool.query(
    `CREATE TABLE bench_order_items (order_id CHAR(36) NOT NULL, sku VARCHAR(64) NOT NULL, quantity INT NOT NULL, unit_price_minor INT NOT NULL, PRIMARY KEY (order_id, sku)) ENGINE=InnoDB`,
  );
  await pool.query(`INSERT INTO bench_inventory VALUES ('RAW-1', 1000000000, 0)`);
  const rawOrderTx = async () => {
    const c = await pool.getConnection();
    try {
      await c.query('START TRANSACTION');
      const [r] = await c.query(
        `UPDATE bench_inventory SET reserved = reserved + 1 WHERE sku = 'RAW-1' AND on_hand - reserved >= 1`,
      );
      if ((r as { affectedRows: number }).affectedRows !== 1) throw new Error('no stock');
      const id = randomUUID();
      await c.query(`INSERT INTO bench_orders VALUES (?, ?, 'PENDING_PAYMENT', 1999, 'EUR', NOW(3))`, [
        id,
        userId ?? id,
      ]);
      await c.query(`INSERT INTO bench_order_items VALUES (?, 'RAW-1', 1, 1999)`, [id]);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK');
      throw e;
    } finally {
      c.release();
    }
  };
  await run(
    'baseline: order tx, raw mysql2',
    () => loopLoad('raw-order-tx', rawOrderTx, CONNECTIONS, DURATION, WARMUP),
    {},
    null,
  );
  brackets.set('baseline: order tx, raw mysql2', () =>
    loopLoad('raw-order-tx', rawOrderTx, CONNECTIONS, BRACKET_SEC, 1),
  );

  // The flash-sale purchase script called directly from ioredis (EVALSHA on one shared
  // connection, as the app does): the ceiling of the Redis path, without HTTP or Nest.
  const lua = new Redis(infra.endpoints.redisUrl) as Redis & {
    fsPurchase(...args: (string | number)[]): Promise<unknown>;
  };
  lua.defineCommand('fsPurchase', { numberOfKeys: 6, lua: PURCHASE_SCRIPT });
  const lk = (part: string) => `${env.REDIS_PREFIX}:baseline:{fs:lua}:${part}`;
  await lua.hset(lk('state'), {
    stock: 1_000_000,
    quantity: 1_000_000,
    startsAt: Date.now() - 1000,
    endsAt: Date.now() + 3_600_000,
    limit: 1,
    closed: '0',
  });
  const luaKeys = ['state', 'held', 'seq', 'stream', 'soldout', 'attempts:u1'].map(lk);
  await lua.fsPurchase(...luaKeys, 'u1', randomUUID(), 0, 0);
  await run(
    'baseline: flash script via ioredis (EVALSHA)',
    () =>
      loopLoad(
        'evalsha',
        () => lua.fsPurchase(...luaKeys, 'u1', randomUUID(), 1_000_000, 10_000),
        CONNECTIONS,
        DURATION,
        WARMUP,
      ),
    {},
    null,
  );
  await lua.del(...luaKeys);
  lua.disconnect();

  // ---- catalog ----
  const sku = `BENCH-${Date.now()}`;
  const productId = await createProduct(api, adminToken, sku, 'Bench Tee');
  if (productId) {
    await json('GET', api(`/products/${productId}`));
    await run('catalog detail (warm cache)', load({ name: 'detail', url: api(`/products/${productId}`) }), {
      baseline: 'baseline: nest+fastify hello-world',
      target: 0.8,
    });
    await json('GET', quietApi(`/products/${productId}`));
    await run(
      `catalog detail (warm cache)${LOGS_OFF}`,
      load({ name: 'detail-quiet', url: quietApi(`/products/${productId}`) }),
      { baseline: 'baseline: nest+fastify hello-world', target: 0.9 },
      quiet,
    );
    await run('catalog search page', load({ name: 'search', url: api('/products?limit=20&sort=newest') }), {
      baseline: 'baseline: nest+fastify hello-world',
      target: 0.4,
    });
    // Cold: every request a search never asked before (two words of the catalog's product
    // names, in an order not used yet), so every one misses the cache and runs FULLTEXT.
    if (want('catalog search, cold')) {
      const [names] = (await pool.query('SELECT name FROM products ORDER BY id LIMIT 20000')) as unknown as [
        { name: string }[],
      ];
      const [[{ n: catalogSize }]] = (await pool.query(
        "SELECT COUNT(*) AS n FROM products WHERE status = 'active'",
      )) as unknown as [{ n: number }[]];
      const words = [
        ...new Set(
          names.flatMap((r) => r.name.toLowerCase().split(/[^a-z0-9]+/)).filter((w) => w.length >= 3),
        ),
      ];
      let next = 0;
      const nextQuery = () => {
        const i = next++;
        const a = words[i % words.length];
        const b = words[(Math.floor(i / words.length) + 1 + i) % words.length];
        // Past words² pairs the page size changes too: still a statement never run before.
        const limit = 10 + (Math.floor(i / (words.length * words.length)) % 20);
        return `/api/v1/products?q=${encodeURIComponent(`${a} ${b}`)}&limit=${limit}`;
      };
      // The shipped engine (CATALOG_SEARCH=memory) loads its index in the background at start:
      // wait until it holds the catalog, and count the pages FULLTEXT answered during the row.
      const metric = async (line: string): Promise<number> => {
        const text = await (await fetch(`http://127.0.0.1:${APP_PORT}/metrics`)).text();
        return Number(
          text
            .split('\n')
            .find((l) => l.startsWith(line))
            ?.split(' ')
            .pop() ?? 0,
        );
      };
      for (let i = 0; i < 600 && (await metric('shop_catalog_search_index_products ')) < catalogSize; i++)
        await new Promise((r) => setTimeout(r, 100));
      const indexed = await metric('shop_catalog_search_index_products ');
      const fulltextBefore = await metric('shop_catalog_searches_total{engine="fulltext"}');
      await run(
        'catalog search, cold (distinct queries)',
        load({
          name: 'search-cold',
          url: api('/products'),
          requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextQuery() }) }],
        }),
        {
          note: `${catalogSize} active products (${indexed} in the api's search index at the start); a new query per request (two of ${words.length} name words, ${20 * words.length ** 2} distinct before any repeats); goal ≥ 1,000 req/s, p99 ≤ 100 ms`,
        },
      );
      const cold = rows.find((r) => r.name === 'catalog search, cold (distinct queries)');
      if (cold)
        cold.note += `; pages answered by FULLTEXT during the row: ${(await metric('shop_catalog_searches_total{engine="fulltext"}')) - fulltextBefore}`;
    }
  }

  // ---- flash sale ----
  if (productId && adminToken && userToken) {
    const sales = await Promise.all([
      openFlashSale(api, adminToken, sku, 100000),
      openFlashSale(api, adminToken, sku, 1),
    ]).catch((err: Error) => err);
    if (!(sales instanceof Error)) {
      const [saleId, soldOutId] = sales;
      await json('POST', api(`/flash-sales/${saleId}/purchase`), undefined, userToken);
      await run(
        'flash purchase, Redis path (already purchased)',
        load({
          name: 'flash-redis',
          url: api(`/flash-sales/${saleId}/purchase`),
          method: 'POST',
          headers: { authorization: `Bearer ${userToken}` },
        }),
        {
          baseline: 'baseline: nest+fastify hello-world',
          target: 0.6,
          note: 'Redis ceiling: see the EVALSHA baseline',
        },
      );
      // The same already-purchased buyer on the instance without access logs.
      await run(
        `flash purchase, Redis path (already purchased)${LOGS_OFF}`,
        load({
          name: 'flash-redis-quiet',
          url: quietApi(`/flash-sales/${saleId}/purchase`),
          method: 'POST',
          headers: { authorization: `Bearer ${userToken}` },
        }),
        { baseline: 'baseline: nest+fastify hello-world', target: 0.7 },
        quiet,
      );
      await json('POST', api(`/flash-sales/${soldOutId}/purchase`), undefined, userToken);
      const other = customerToken(randomUUID());
      await json('POST', api(`/flash-sales/${soldOutId}/purchase`), undefined, other);
      await run(
        'flash purchase, sold-out path',
        load({
          name: 'flash-soldout',
          url: api(`/flash-sales/${soldOutId}/purchase`),
          method: 'POST',
          headers: { authorization: `Bearer ${other}` },
        }),
        {
          baseline: 'baseline: nest+fastify hello-world',
          target: 0.8,
        },
      );
      // The same sold-out sale on the instance without access logs (its own sold-out flag is set
      // by its first refused purchase).
      await json('POST', quietApi(`/flash-sales/${soldOutId}/purchase`), undefined, other);
      await run(
        `flash purchase, sold-out path${LOGS_OFF}`,
        load({
          name: 'flash-soldout-quiet',
          url: quietApi(`/flash-sales/${soldOutId}/purchase`),
          method: 'POST',
          headers: { authorization: `Bearer ${other}` },
        }),
        { baseline: 'baseline: nest+fastify hello-world', target: 0.9 },
        quiet,
      );
    } else {
      rows.push({
        name: 'flash sale',
        rps: 0,
        p50: 0,
        p99: 0,
        errors: 1,
        non2xx: 0,
        requests: 0,
        note: sales.message,
      });
    }
  }

  // ---- cart ----
  // Many customers (tokens for fresh ids): each request pair adds one unit of the SKU to a
  // customer's cart (Lua script on their hash, price from the catalog cache) and reads the cart
  // back (HGETALL, priced from the catalog cache). 500 carts keep every line under its 1000 cap.
  if (productId) {
    // Fresh carts for every run: six runs (three each, logs on and off) over the same 500 carts
    // would fill their lines to the cap and measure 409 CART_LINE_LIMIT answers instead.
    const cartLoad = (name: string, url: string) => () =>
      load({
        name,
        url,
        requests: cartRequests(
          Array.from({ length: 500 }, () => `Bearer ${customerToken(randomUUID())}`),
          sku,
        ),
      })();
    const cartName = 'cart add + read (POST /cart/items, GET /cart)';
    await run(cartName, cartLoad('cart', api('/cart')), {
      baseline: 'baseline: nest+fastify hello-world',
      target: 0.5,
    });
    await run(
      `${cartName}${LOGS_OFF}`,
      cartLoad('cart-quiet', quietApi('/cart')),
      { baseline: 'baseline: nest+fastify hello-world', target: 0.5 },
      quiet,
    );
  }

  // The instance with access logs off has served its last scenario: it is stopped, so that it
  // takes no CPU from the rest (on 2 cores an idle api instance is not free: it receives every
  // order's read-your-writes broadcast and runs its timers). The order scenarios are measured
  // against one api instance, as their raw-mysql2 baseline is one client.
  await new Promise<void>((resolve) => {
    if (quiet.exitCode !== null || quiet.signalCode !== null) return resolve();
    quiet.once('exit', () => resolve());
    quiet.kill('SIGTERM');
  });

  // ---- login ----
  await run(
    'login (argon2id verify)',
    load({
      name: 'login',
      url: api('/auth/login'),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD }),
    }),
    {
      baseline: 'baseline: nest+fastify hello-world',
      note: 'bounded by argon2id cost by design (19 MiB, t=2, on the libuv pool); the per-IP cap is lifted for the run; the few 429s are the per-account limit counting 50 concurrent logins of one account from one address while in flight',
    },
  );

  // ---- login flood ----
  // Catalog latency at a fixed, moderate rate (open loop, so p99 is latency rather than the queue
  // of a saturating closed loop), alone and then while 100 connections send wrong passwords for
  // ever-new emails (each one a real argon2 verify: no per-email limit applies, and the per-IP cap
  // is lifted for the bench). Bounded hashing (PASSWORD_HASH_CONCURRENCY) should keep the flood
  // to its share of the CPU: goal, catalog p99 under the flood ≤ 2 × alone.
  if (productId) {
    const probe = {
      name: 'catalog-probe',
      url: api(`/products/${productId}`),
      overallRate: FLOOD_PROBE_RATE,
      connections: CONNECTIONS,
      durationSec: DURATION,
    };
    await run(
      `login flood: catalog p99 at ${FLOOD_PROBE_RATE} req/s while ${FLOOD_CONNECTIONS} connections send wrong passwords`,
      async () => {
        const alone = await httpLoad({ ...probe, warmupSec: WARMUP });
        let n = 0;
        const runId = randomUUID().slice(0, 8);
        const flood = httpLoad({
          name: 'login-flood',
          url: api('/auth/login'),
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => ({
                ...req,
                body: JSON.stringify({
                  email: `flood-${runId}-${n++}@bench.local`,
                  password: 'a-wrong-password',
                }),
              }),
            },
          ],
          connections: FLOOD_CONNECTIONS,
          durationSec: WARMUP + DURATION + 1,
        });
        await sleep(WARMUP * 1000); // the flood fills the hashing slots and the wait queue first
        const under = await httpLoad(probe);
        const f = await flood;
        const times = alone.p99 > 0 ? Math.round((under.p99 / alone.p99) * 100) / 100 : 0;
        return {
          ...under,
          name: 'login-flood',
          note:
            `catalog detail at ${FLOOD_PROBE_RATE} req/s: p99 ${alone.p99} ms alone (p50 ${alone.p50}), ${under.p99} ms under the flood (p50 ${under.p50}) = ${times}× (goal ≤ 2×); ` +
            `the flood: ${f.requests} logins in ${WARMUP + DURATION + 1} s (${f.rps} req/s, p99 ${f.p99} ms), answers ${JSON.stringify(f.byStatus)}, ${f.errors} errors`,
        } as LoadResult & { note: string };
      },
    );
  }

  // Order scenarios run last: the jobs they leave behind (expiry, outbox, confirmation mail)
  // keep the worker busy and would skew any scenario measured after them.
  // ---- orders ----
  if (productId && userToken) {
    const protoDir = join(ROOT, 'src', 'orders', 'proto');
    const def = protoLoader.loadSync(join(protoDir, 'shop', 'orders', 'v1', 'orders.proto'), {
      includeDirs: [protoDir],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const client = new pkg.shop.orders.v1.OrderService(
      `127.0.0.1:${GRPC_PORT}`,
      grpc.credentials.createInsecure(),
    );
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${userToken}`);
    const restOrders = load({
      name: 'orders',
      url: api('/orders'),
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${userToken}` },
      body: JSON.stringify({ items: [{ sku, quantity: 1 }] }),
    });
    const grpcOrders = () =>
      loopLoad(
        'grpc-create',
        () =>
          new Promise((res, rej) =>
            client.CreateOrder({ items: [{ sku, quantity: 1 }] }, md, (e: Error | null, r: unknown) =>
              e ? rej(e) : res(r),
            ),
          ),
        CONNECTIONS,
        DURATION,
        WARMUP,
      );
    const orderGoal = { baseline: 'baseline: order tx, raw mysql2', target: 0.7 };
    // 1. As on one machine: the worker instance relays each order's event, schedules its expiry
    //    job and sends its confirmation mail on the same 2 cores as the api and MySQL.
    await run('REST POST /orders', restOrders, orderGoal);
    await run('gRPC CreateOrder', grpcOrders, orderGoal);
    // 2. As deployed: the worker tier on other machines. The worker is stopped while the api
    //    takes orders (their follow-up work waits in the outbox, as it would for a busy worker
    //    tier), then started again and the time it takes to catch up is measured.
    const elsewhere = ' (worker tier elsewhere)';
    if (want(`REST POST /orders${elsewhere}`) || want(`gRPC CreateOrder${elsewhere}`)) {
      await stopWorker();
      // Issue 26: the api alone at least as fast as the raw transaction.
      const aloneGoal = { ...orderGoal, target: 1.0 };
      await run(`REST POST /orders${elsewhere}`, restOrders, aloneGoal);
      await run(`gRPC CreateOrder${elsewhere}`, grpcOrders, aloneGoal);
      await run(
        'order follow-up drain (outbox → confirmation mails)',
        async () => {
          const [[{ n }]] = (await pool.query(
            'SELECT COUNT(*) AS n FROM outbox WHERE published_at IS NULL',
          )) as unknown as [{ n: number }[]];
          const t0 = Date.now();
          const sink0 = cpuSec(smtpSinkPid);
          worker = startWorker();
          workerUp = true;
          await waitHttp(`http://127.0.0.1:${WORKER_PORT}/health/ready`);
          await settle(false);
          const sec = (Date.now() - t0) / 1000;
          // CPU per order (µs): the worker's from its start to the drained queues, less what a
          // start costs (measured on the first worker); the SMTP sink's over the same time.
          const workerCpu = cpuSec(worker.pid);
          const sink1 = cpuSec(smtpSinkPid);
          const perOrder = (cpu: number) => Math.round((cpu * 1e6) / Math.max(1, Number(n)));
          const workerUs =
            workerCpu !== undefined && workerBootCpu !== undefined
              ? perOrder(Math.max(0, workerCpu - workerBootCpu))
              : undefined;
          const sinkUs = sink0 !== undefined && sink1 !== undefined ? perOrder(sink1 - sink0) : undefined;
          return {
            name: 'follow-up-drain',
            rps: Math.round(Number(n) / sec),
            p50: 0,
            p99: 0,
            errors: 0,
            non2xx: 0,
            requests: Number(n),
            workerCpuUsPerOrder: workerUs,
            smtpSinkCpuUsPerOrder: sinkUs,
            note:
              `${n} orders' events relayed and handled (confirmation mail) by one restarted worker in ${sec.toFixed(1)} s, boot included; ` +
              `CPU per order: worker ${workerUs ?? '?'} µs (its start, ${workerBootCpu?.toFixed(2) ?? '?'} s, subtracted), SMTP sink ${sinkUs ?? '?'} µs`,
          } as LoadResult & Pick<Row, 'note' | 'workerCpuUsPerOrder' | 'smtpSinkCpuUsPerOrder'>;
        },
        {},
      );
      if (!workerUp) {
        worker = startWorker();
        workerUp = true;
        await waitHttp(`http://127.0.0.1:${WORKER_PORT}/health/ready`);
      }
    }
    client.close();

    // ---- checkout: coupon, tax, shipping ----
    // POST /orders with an inline address, a shipping method, a 10 % coupon (no usage limit)
    // and a 20 % tax rate: the order's one batch also carries the coupon's three statements.
    // Its baseline sends the same statements to clones of the same tables, one by one in a
    // raw mysql2 transaction (as the order baseline does).
    const checkoutName = 'checkout with coupon, tax and shipping (REST POST /orders)';
    if (want(checkoutName) || want('baseline: checkout tx')) {
      const code = `BENCH${Date.now().toString(36).toUpperCase()}`;
      await json(
        'POST',
        api('/admin/tax-rates'),
        { country: 'AT', name: 'USt 20 %', rateBp: 2000 },
        adminToken,
      );
      await json(
        'POST',
        api('/admin/shipping-methods'),
        { code: 'bench-std', name: 'Standard', price: 490, currency: 'EUR', countries: ['AT'] },
        adminToken,
      );
      const coupon = await json(
        'POST',
        api('/admin/coupons'),
        { code, kind: 'percentage', percentOff: 10 },
        adminToken,
      );
      const buyers = Array.from({ length: 500 }, () => `Bearer ${customerToken(randomUUID())}`);
      const body = JSON.stringify({
        items: [{ sku, quantity: 1 }],
        shippingAddress: {
          fullName: 'Bench Buyer',
          line1: 'Ring 1',
          city: 'Wien',
          postalCode: '1010',
          country: 'AT',
        },
        shippingMethod: 'bench-std',
        couponCode: code,
      });
      const checkoutGoal = { baseline: 'baseline: checkout tx, raw mysql2', target: 0.7 };
      for (const t of [
        'orders',
        'order_items',
        'outbox',
        'coupons',
        'coupon_redemptions',
        'coupon_customer_uses',
        'inventory_items',
        'inventory_movements',
      ])
        await pool.query(`CREATE TABLE IF NOT EXISTS bench_co_${t} LIKE ${t}`);
      const couponId = randomUUID();
      await pool.query(
        `INSERT INTO bench_co_coupons (id, code, kind, percent_off, starts_at) VALUES (?, ?, 'percentage', 10, NOW(3) - INTERVAL 1 DAY)`,
        [couponId, code],
      );
      await pool.query(
        `INSERT INTO bench_co_inventory_items (sku, on_hand, reserved, low_stock_threshold) VALUES ('RAW-CO', 1000000000, 0, 10)`,
      );
      const rawUsers = Array.from({ length: 500 }, () => randomUUID());
      let nth = 0;
      const address = JSON.stringify({
        fullName: 'Bench Buyer',
        line1: 'Ring 1',
        city: 'Wien',
        postalCode: '1010',
        country: 'AT',
      });
      // The statements of OrdersRepository.insertStatements, OutboxWriter, CouponsRepository.redeemStatements
      // and InventoryService.reserveIn for a one-line order with a coupon.
      const rawCheckoutTx = async () => {
        const c = await pool.getConnection();
        const id = randomUUID();
        const user = rawUsers[nth++ % rawUsers.length];
        const now = new Date();
        try {
          await c.query('START TRANSACTION');
          await c.query(
            `INSERT INTO bench_co_orders (id, user_id, status, total_minor, currency, idempotency_key, source, flash_sale_id,
               reservation_id, expires_at, created_at, updated_at, subtotal_minor, discount_minor, shipping_minor, tax_minor,
               tax_included, tax_country, shipping_method_code, shipping_method_name, coupon_code, shipping_address, awaiting_address)
             VALUES (?, ?, 'PENDING_PAYMENT', ?, 'EUR', NULL, 'web', NULL, NULL, ?, ?, ?, ?, ?, ?, ?, 1, 'AT', 'bench-std', 'Standard', ?, ?, 0)`,
            [id, user, 2289, new Date(now.getTime() + 900_000), now, now, 1999, 200, 490, 382, code, address],
          );
          await c.query(
            `INSERT INTO bench_co_order_items (order_id, sku, product_id, product_name, unit_price_minor, quantity, discount_minor, tax_minor, tax_rate_bp)
             VALUES (?, 'RAW-CO', NULL, 'Bench Tee', 1999, 1, 200, 300, 2000)`,
            [id],
          );
          await c.query(
            'INSERT INTO bench_co_outbox (id, aggregate_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)',
            [
              randomUUID(),
              id,
              'order.created',
              JSON.stringify({ orderId: id, userId: user, total: { amount: 2289, currency: 'EUR' } }),
              now,
            ],
          );
          await c.query(
            `UPDATE bench_co_coupons SET used = used + 1 WHERE id = ? AND active = 1 AND (usage_limit IS NULL OR used < usage_limit)
               AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?)`,
            [couponId, now, now],
          );
          await c.query(
            `INSERT INTO bench_co_coupon_redemptions (coupon_id, order_id, user_id, discount_minor, status, created_at)
             VALUES (?, ?, ?, IF(ROW_COUNT() = 1, ?, NULL), 'ACTIVE', ?)`,
            [couponId, id, user, 200, now],
          );
          await c.query(
            `INSERT INTO bench_co_coupon_customer_uses (coupon_id, user_id, used, max_uses) VALUES (?, ?, 1, ?)
             ON DUPLICATE KEY UPDATE used = used + 1, max_uses = ?`,
            [couponId, user, 2147483647, 2147483647],
          );
          await c.query(
            `UPDATE bench_co_inventory_items SET reserved = reserved + ? + LEAST(0, LAST_INSERT_ID(
               IF(on_hand - reserved >= low_stock_threshold AND on_hand - reserved - ? < low_stock_threshold, on_hand - reserved - ? + 1, 0)))
             WHERE sku = 'RAW-CO' AND on_hand - reserved >= ?`,
            [1, 1, 1, 1],
          );
          await c.query(
            `INSERT INTO bench_co_inventory_movements (sku, delta_on_hand, delta_reserved, reason, order_id)
             VALUES ('RAW-CO', 0, IF(ROW_COUNT() = 1, ?, NULL), 'reserve', ?)`,
            [1, id],
          );
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw e;
        } finally {
          c.release();
        }
      };
      brackets.set('baseline: checkout tx, raw mysql2', () =>
        loopLoad('raw-checkout-tx', rawCheckoutTx, CONNECTIONS, BRACKET_SEC, 1),
      );
      if (coupon.body?.id)
        await run(
          checkoutName,
          load({
            name: 'checkout',
            url: api('/orders'),
            method: 'POST',
            requests: buyers.map((authorization) => ({
              method: 'POST' as const,
              headers: { authorization, 'content-type': 'application/json' },
              body,
            })),
          }),
          {
            ...checkoutGoal,
            note: '10 % coupon (no usage limit), 20 % tax, inline address, 4.90 shipping; 500 customers',
          },
        );
    }
    // With --seed-orders, the reader is the seeded customer with the most orders, on the whole table.
    let reader = userToken;
    let historyNote = "the bench user's own orders";
    if (SEED_ORDERS > 0) {
      const [[top]] = (await pool.query(
        `SELECT user_id AS id, COUNT(*) AS n FROM orders GROUP BY user_id ORDER BY n DESC LIMIT 1`,
      )) as unknown as [{ id: string; n: number }[]];
      const [[all]] = (await pool.query('SELECT COUNT(*) AS n FROM orders')) as unknown as [{ n: number }[]];
      reader = customerToken(top.id);
      historyNote = `a customer with ${top.n} orders, ${all.n} orders in the table`;
    }
    await run(
      'order history page (GET /orders)',
      load({
        name: 'history',
        url: api('/orders?limit=20'),
        headers: { authorization: `Bearer ${reader}` },
      }),
      { baseline: 'baseline: nest+fastify hello-world', note: historyNote, target: 0.3 },
    );
  }

  // Last: the drain leaves thousands of orders' follow-up work (outbox, mails, expiry jobs)
  // that would otherwise run during, and skew, the scenarios measured after it.
  if (productId && adminToken) {
    // Drain: a burst of purchases by many users, then the time until every accepted
    // reservation is an order in MySQL (the consumer group's batched transactions).
    const units = QUICK ? 2000 : 10000;
    const buyers = Array.from({ length: units / 100 }, () => customerToken(randomUUID()));
    const burst = await json(
      'POST',
      api('/flash-sales'),
      {
        sku,
        price: 999,
        quantity: units,
        perUserLimit: 1000,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      },
      adminToken,
    );
    if (burst.body?.id)
      await run(
        'flash drain: reservations into MySQL orders',
        async () => {
          const t0 = Date.now();
          const r = await httpLoad({
            name: 'flash-burst',
            url: api(`/flash-sales/${burst.body.id}/purchase`),
            method: 'POST',
            requests: buyers.map((t) => ({ method: 'POST', headers: { authorization: `Bearer ${t}` } })),
            connections: CONNECTIONS,
            durationSec: DURATION,
            amount: units,
          });
          const accepted = r.statusCodes?.['2xx'] ?? 0;
          const burstSec = (Date.now() - t0) / 1000;
          let persisted = 0;
          while (Date.now() - t0 < 180_000) {
            const [[row]] = (await pool.query('SELECT COUNT(*) AS n FROM orders WHERE flash_sale_id = ?', [
              burst.body.id,
            ])) as unknown as [{ n: number }[]];
            persisted = Number(row.n);
            if (persisted >= accepted) break;
            await sleep(100);
          }
          const sec = (Date.now() - t0) / 1000;
          return {
            ...r,
            name: 'flash-drain',
            rps: Math.round(persisted / sec),
            errors: r.errors + Math.max(0, accepted - persisted),
            note: `${accepted} reservations (burst ${Math.round(accepted / burstSec)} req/s, p99 ${r.p99} ms) → ${persisted} orders, all persisted ${sec.toFixed(1)} s after the first purchase`,
          } as LoadResult & { note: string };
        },
        // Once: the sale's units are sold by the first run.
        { baseline: 'baseline: order tx, raw mysql2', once: true },
      );
  }

  // ---- Redis Cluster: two concurrent sales on 3 masters vs the same two on one Redis ----
  // A second api instance (same database) runs against a private 3-master Redis Cluster (the
  // tests' helper, AOF on); two sales whose slots are on different masters are hammered at once
  // on the Redis path (each buyer already holds its unit: every request runs the purchase
  // script). The same load then runs against the ordinary instance and its one Redis. Reported:
  // requests/s and each Redis node's commands/s (INFO total_commands_processed), so a reader sees
  // keys and load on every master. Decision 0025.
  if (want('cluster: two sales') && adminToken) {
    const cluster = await LocalRedisCluster.start(3, 0);
    const clPort = await freePort();
    const clApp = start(
      process.execPath,
      [join(APP_ROOT, 'dist', 'main.js')],
      {
        ...env,
        PORT: String(clPort),
        GRPC_PORT: String(await freePort()),
        REDIS_URL: cluster.url,
        REDIS_PREFIX: `benchcl${Date.now().toString(36)}`,
      },
      'app-cluster',
    );
    try {
      await waitHttp(`http://127.0.0.1:${clPort}/health/ready`);
      const clApi = (p: string) => `http://127.0.0.1:${clPort}/api/v1${p}`;
      const opsOf = async (ports: number[]) =>
        new Map(
          await Promise.all(
            ports.map(async (port) => {
              const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
              try {
                await r.connect();
                const m = /total_commands_processed:(\d+)/.exec(await r.info('stats'));
                return [port, Number(m?.[1] ?? 0)] as const;
              } finally {
                r.disconnect();
              }
            }),
          ),
        );
      /** Two sales on `base` (on different masters when `masterOf` says where a sale lives). */
      const twoSales = async (
        base: (p: string) => string,
        token: string,
        masterOf?: (saleId: string) => Promise<number>,
      ): Promise<string[]> => {
        const clSku = `BENCH-CL-${randomUUID().slice(0, 8)}`;
        await json(
          'POST',
          base('/products'),
          {
            name: 'Bench cluster tee',
            variants: [{ sku: clSku, price: 2000, currency: 'EUR', stockOnHand: 1_000_000 }],
          },
          token,
        );
        const ids: string[] = [];
        const masters = new Set<number>();
        for (let i = 0; i < 12 && ids.length < 2; i++) {
          const res = await json(
            'POST',
            base('/flash-sales'),
            {
              sku: clSku,
              price: 999,
              quantity: 1000,
              perUserLimit: 1,
              startsAt: new Date(Date.now() - 1000).toISOString(),
              endsAt: new Date(Date.now() + 3600_000).toISOString(),
            },
            token,
          );
          const id = res.body?.id as string | undefined;
          if (!id) throw new Error(`create sale: ${res.status} ${JSON.stringify(res.body)}`);
          const m = masterOf ? await masterOf(id) : ids.length;
          if (!masters.has(m)) {
            masters.add(m);
            ids.push(id);
          }
        }
        return ids;
      };
      const twoSaleLoad = async (base: (p: string) => string, saleIds: string[], nodes: number[]) => {
        const buyer = customerToken(randomUUID());
        for (const id of saleIds) await json('POST', base(`/flash-sales/${id}/purchase`), undefined, buyer);
        const t1 = Date.now();
        const before = await opsOf(nodes);
        const results = await Promise.all(
          saleIds.map((id, i) =>
            httpLoad({
              name: `cluster-sale-${i}`,
              url: base(`/flash-sales/${id}/purchase`),
              method: 'POST',
              headers: { authorization: `Bearer ${buyer}` },
              connections: CONNECTIONS / 2,
              durationSec: DURATION,
              warmupSec: WARMUP,
            }),
          ),
        );
        const after = await opsOf(nodes);
        const sec = (Date.now() - t1) / 1000;
        const perNode = nodes.map(
          (n) => `:${n} ${Math.round(((after.get(n) ?? 0) - (before.get(n) ?? 0)) / sec)}`,
        );
        const combined: LoadResult = {
          name: 'two sales',
          rps: results.reduce((a, r) => a + r.rps, 0),
          p50: Math.max(...results.map((r) => r.p50)),
          p99: Math.max(...results.map((r) => r.p99)),
          errors: results.reduce((a, r) => a + r.errors, 0),
          non2xx: results.reduce((a, r) => a + r.non2xx, 0),
          requests: results.reduce((a, r) => a + r.requests, 0),
        };
        return { combined, perNode, perSale: results.map((r) => r.rps) };
      };

      const clAdmin = (
        await json('POST', clApi('/auth/login'), { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD })
      ).body?.accessToken as string;
      const masters = (await cluster.masters()).map((m) => m.port);
      const clSales = await twoSales(clApi, clAdmin, async (id) => {
        const slot = await cluster.keyslot(`x:{fs:${id}}:state`);
        return (await cluster.masterOfSlot(slot)).port;
      });
      await run(
        'cluster: two sales on a 3-master Redis Cluster',
        async () => {
          const r = await twoSaleLoad(clApi, clSales, masters);
          const keys = await cluster.keysPerMaster();
          const note = `Redis path, 2 sales × ${CONNECTIONS / 2} connections; per sale ${r.perSale.join(' / ')} req/s; commands/s per master ${r.perNode.join(', ')}; keys per master ${[...keys.values()].join(' / ')}`;
          console.log(`\n    ${note}`);
          return { ...r.combined, note } as LoadResult & { note: string };
        },
        {},
        clApp,
      );
      const redisUrl = new URL(infra.endpoints.redisUrl);
      const oneSales = await twoSales(api, adminToken);
      await run('cluster: the same two sales on one Redis', async () => {
        const r = await twoSaleLoad(api, oneSales, [Number(redisUrl.port || 6379)]);
        const note = `Redis path, 2 sales × ${CONNECTIONS / 2} connections; per sale ${r.perSale.join(' / ')} req/s; commands/s of the one Redis ${r.perNode.join(', ')}`;
        console.log(`\n    ${note}`);
        return { ...r.combined, note } as LoadResult & { note: string };
      });
    } finally {
      clApp.kill('SIGTERM');
      await cluster.stop();
    }
  }

  for (const r of rows) {
    const b = r.baselineRps ?? rows.find((x) => x.name === r.baseline)?.rps;
    if (b) r.ratio = Math.round((r.rps / b) * 100) / 100;
  }
  const date = new Date().toISOString().replace(/[:]/g, '-').slice(0, 19);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const meta = {
    date: new Date().toISOString(),
    quick: QUICK,
    durationSec: DURATION,
    connections: CONNECTIONS,
    pool: POOL,
    cpus: cpus().length,
    node: process.version,
    totalSec: Math.round((Date.now() - t0) / 1000),
    seed: seedNote || undefined,
  };
  writeFileSync(join(dir, `${date}.json`), JSON.stringify({ meta, rows }, null, 2));
  const { markdown, svg } = await renderReport(meta, rows);
  for (const name of [date, 'latest']) {
    writeFileSync(join(dir, `${name}.md`), markdown);
    writeFileSync(join(dir, `${name}.svg`), svg);
  }
  console.log(`\n${markdown}\nwritten to bench/results/${date}.{json,md,svg} in ${meta.totalSec}s`);
  const logged = logFiles.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
  console.log(`the apps wrote ${(logged / 1e6).toFixed(1)} MB of logs`);
  await pool.end();
}

function stop(code: number): Promise<void> {
  owned.stopping ??= (async () => {
    owned.abort.abort(); // infraUp spawns nothing more and stops waiting
    // A profiled app (--cpu-prof) writes its profile only once its graceful shutdown is done.
    const grace = process.env.BENCH_APP_NODE_ARGS || process.env.BENCH_WORKER_NODE_ARGS ? 30000 : 10000;
    await Promise.all(
      children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, sleep(grace)]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }),
    );
    await owned.infraUp?.catch(() => undefined);
    if (!process.env.BENCH_KEEP_LOGS)
      for (const f of logFiles)
        try {
          unlinkSync(f);
        } catch {
          /* gone */
        }
    if (owned.infra.size) {
      console.log(`stopping the local ${[...owned.infra].join(', ')} this run started`);
      await infraDown({ only: [...owned.infra], log: () => undefined }).catch((err: Error) => {
        console.error(`could not stop ${[...owned.infra].join(', ')}: ${err.message}`);
        code ||= 1;
      });
    }
    process.exit(code);
  })();
  return owned.stopping;
}

// Installed before anything starts: a Ctrl-C (or SIGTERM to this pid) in any phase stops what was started.
process.on('SIGINT', () => {
  console.log('\ninterrupted: stopping...');
  void stop(130); // nothing awaits a signal; stop() catches its own failures and ends the process
});
process.on('SIGTERM', () => void stop(143)); // as above
main().then(
  () => stop(0),
  (err: Error) => {
    if (!owned.stopping) console.error(err.stack ?? err.message);
    return stop(1);
  },
);
