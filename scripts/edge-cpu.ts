/**
 * Server CPU per request on the HTTP edge paths, A/B between builds — a measurement that holds
 * on a shared machine, where throughput does not (other processes take the cores).
 *
 *   npm run infra:up                                      # the local MySQL pair, Redis, mail (INFRA_* ports)
 *   npx nest build                                        # this checkout's dist/
 *   npx ts-node --transpile-only scripts/edge-cpu.ts [appRoot ...]
 *
 * Each app root (default: this checkout) must hold a built dist/ (and node_modules). Every root's
 * dist/main.js is started as shipped (NODE_ENV=production, HTTP_LOG=true, LOG_LEVEL=info, stdout
 * to a file under the OS temp directory), on its own database and Redis prefix, one at a time;
 * for each scenario it sends EDGE_CPU_REQUESTS requests (default 10000, after a warm-up of as
 * many) over 50 connections with autocannon, and reads the app process's utime+stime from
 * /proc/<pid>/stat before and after: µs of server CPU per request. Rounds alternate the roots
 * back to back (EDGE_CPU_ROUNDS, default 9); reported per root and scenario: the median, and the median of
 * the per-round ratios to the first root (steadier: the machine's load drifts within seconds).
 * Scenarios (as bench/run.ts's): cart add + read (POST /cart/items + GET /cart over 500 carts),
 * flash purchase sold-out path, catalog product detail (warm cache). EDGE_CPU_ONLY=cart,soldout
 * picks some; EDGE_CPU_LOG_OFF=1 runs the apps with HTTP_LOG=false; EDGE_CPU_NODE_ARGS gives the
 * apps Node flags (`--cpu-prof --cpu-prof-dir=/tmp/prof`: a profile each, written at their exit).
 *
 * On a machine others load too, back-to-back runs of the same build differ by ±25%:
 * EDGE_CPU_PARALLEL=1 puts every root under load at the same time (the same moment's machine for
 * each; two copies of one build then agree within a few %), EDGE_CPU_RATE=<req/s> makes each
 * load open-loop at that rate (equal work per root, but little batching: costs per request are
 * higher than under saturation, and what batching saves shows less). A root may carry extra
 * environment: `path:NAME=value,NAME=value`.
 */
import { ChildProcess, execSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { createPool } from 'mysql2/promise';
import { httpLoad } from '../bench/lib/load';
import {
  cartRequests,
  createProduct,
  mysqlAccount,
  openFlashSale,
  recreateDatabase,
} from '../bench/lib/fixtures';
import { resolveLocalInfra } from './infra/infra-plan';
import { freePort, jsonRequest as json } from './lib/net';

const SECRET = 'edge-cpu-jwt-secret-0123456789-0123456789';
const N = Number(process.env.EDGE_CPU_REQUESTS ?? 10000);
const ROUNDS = Number(process.env.EDGE_CPU_ROUNDS ?? 9);
const ONLY = process.env.EDGE_CPU_ONLY?.split(',');
/** Node flags for the apps, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (written at their graceful exit). */
const NODE_ARGS = (process.env.EDGE_CPU_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** Open loop at this many requests per second instead of closed loop (steadier under others' load). */
const RATE = Number(process.env.EDGE_CPU_RATE ?? 0) || undefined;
/**
 * All roots under load at once (each with its own load): they share the same moment's machine,
 * which pairs them better than back to back when others' load comes and goes. Best with a RATE.
 */
const PARALLEL = !!process.env.EDGE_CPU_PARALLEL;
/** `appRoot` or `appRoot:NAME=value,NAME=value` (extra environment for that app). */
const roots = (process.argv.slice(2).length ? process.argv.slice(2) : [join(__dirname, '..')]).map((a) => {
  const [root, extra = ''] = a.split(':');
  return {
    root: resolve(root),
    label: a,
    env: Object.fromEntries(
      extra
        .split(',')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ) as Record<string, string>,
  };
});
const median = (v: number[]) => v[Math.floor(v.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in seconds (clock ticks of 10 ms). */
function cpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function waitHttp(url: string): Promise<void> {
  for (const end = Date.now() + 90_000; Date.now() < end; await sleep(300)) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      /* not up yet */
    }
  }
  throw new Error(`${url} not ready`);
}

const token = (sub: string) =>
  new JwtService({ secret: SECRET }).sign({ sub, role: 'customer' }, { algorithm: 'HS256', expiresIn: 3600 });

interface App {
  root: string;
  proc: ChildProcess;
  scenarios: Record<string, (amount: number) => Promise<number>>;
}

async function startApp({ root, label, env: extra }: (typeof roots)[number], i: number): Promise<App> {
  const local = resolveLocalInfra({ mail: true });
  const db = `nc_edgecpu_${i}`;
  const admin = createPool({ ...mysqlAccount(local.urls.primary), connectionLimit: 1 });
  await recreateDatabase(admin, db);
  await admin.end();
  const dbUrl = (u: string) => Object.assign(new URL(u), { pathname: `/${db}` }).toString();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    APP_ROLE: 'api',
    PORT: String(port),
    GRPC_PORT: String(await freePort()),
    DB_PRIMARY_URL: dbUrl(local.urls.primary),
    DB_REPLICA_URLS: local.urls.replicas.map(dbUrl).join(','),
    REDIS_URL: local.urls.redis,
    REDIS_PREFIX: `edgecpu${i}${Date.now().toString(36)}`,
    SMTP_URL: local.urls.smtp,
    JWT_SECRET: SECRET,
    PAYMENT_WEBHOOK_SECRET: 'edge-cpu-webhook-secret-0123',
    ADMIN_EMAIL: 'admin@edgecpu.local',
    ADMIN_PASSWORD: 'edge-cpu-admin-password',
    PUBLIC_WEB_URL: 'http://shop.edgecpu.local',
    LOG_LEVEL: 'info',
    HTTP_LOG: process.env.EDGE_CPU_LOG_OFF ? 'false' : 'true',
    SEED_DEMO_DATA: 'false',
    FLASH_SALE_PURCHASE_RATE_LIMIT: '1000000',
    // Every cart line grows by one per add (500 carts): under MAX_LINE_QUANTITY for ~500k adds.
    ORDER_MAX_UNPAID_UNITS_PER_SKU: '1000000',
    ...extra,
  };
  execSync('node dist/infra/database/migrate.js', { cwd: root, env, stdio: 'ignore' });
  const out = openSync(join(tmpdir(), `edge-cpu-app-${i}.log`), 'w');
  const proc = spawn(process.execPath, [...NODE_ARGS, join(root, 'dist', 'main.js')], {
    cwd: root,
    env,
    stdio: ['ignore', out, out],
  });
  const api = (p: string) => `http://127.0.0.1:${port}/api/v1${p}`;
  await waitHttp(`http://127.0.0.1:${port}/health/ready`);

  const adminToken = (
    await json('POST', api('/auth/login'), { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD })
  ).body?.accessToken as string;
  const sku = `EDGE-${Date.now()}`;
  const productId = await createProduct(api, adminToken, sku, 'Edge Tee');
  if (!productId) throw new Error('could not create the product');
  const saleId = await openFlashSale(api, adminToken, sku, 1);
  await json('POST', api(`/flash-sales/${saleId}/purchase`), undefined, token(randomUUID()));
  const other = token(randomUUID());
  await json('POST', api(`/flash-sales/${saleId}/purchase`), undefined, other);
  const carts = Array.from({ length: 500 }, () => `Bearer ${token(randomUUID())}`);

  /** Every answer the expected one (the sold-out purchase is a 409). */
  const expect2xx =
    (name: string, status = '200') =>
    (r: Awaited<ReturnType<typeof httpLoad>>) => {
      const other = Object.entries(r.byStatus ?? {}).filter(([code]) => code !== status);
      if (r.errors || other.length) throw new Error(`${name}: ${r.errors} errors, ${JSON.stringify(other)}`);
      return r.requests;
    };
  const base = { url: api('/'), connections: 50, durationSec: 0, overallRate: RATE };
  return {
    root: label,
    proc,
    scenarios: {
      cart: (amount) =>
        httpLoad({
          ...base,
          name: 'cart',
          amount,
          requests: cartRequests(carts, sku),
        }).then(expect2xx('cart')),
      soldout: (amount) =>
        httpLoad({
          ...base,
          name: 'soldout',
          url: api(`/flash-sales/${saleId}/purchase`),
          method: 'POST',
          headers: { authorization: `Bearer ${other}` },
          amount,
        }).then(expect2xx('soldout', '409')),
      detail: (amount) =>
        httpLoad({ ...base, name: 'detail', url: api(`/products/${productId}`), amount }).then(
          expect2xx('detail'),
        ),
    },
  };
}

async function main(): Promise<void> {
  const apps: App[] = [];
  try {
    for (const [i, root] of roots.entries()) apps.push(await startApp(root, i));
    const names = Object.keys(apps[0].scenarios).filter((s) => !ONLY || ONLY.includes(s));
    const results = new Map<string, number[]>();
    for (const app of apps) for (const s of names) await app.scenarios[s](N); // warm-up (JIT, caches)
    const measure = async (round: number, s: string, i: number, app: App) => {
      const before = cpuSec(app.proc.pid!);
      const n = await app.scenarios[s](N);
      await sleep(250); // the last flush of the log destination and the like
      const us = ((cpuSec(app.proc.pid!) - before) / n) * 1e6;
      const key = `${s}\t${i}`;
      results.set(key, [...(results.get(key) ?? []), us]);
      console.log(`round ${round + 1} ${s} [${i}] ${app.root}: ${us.toFixed(1)} µs/request (${n} requests)`);
    };
    for (let round = 0; round < ROUNDS; round++)
      for (const s of names) {
        await sleep(200);
        if (PARALLEL) await Promise.all(apps.map((app, i) => measure(round, s, i, app)));
        else for (const [i, app] of apps.entries()) await measure(round, s, i, app);
      }
    console.log('\nmedian µs of server CPU per request:');
    for (const s of names)
      for (const [i, app] of apps.entries()) {
        const v = [...results.get(`${s}\t${i}`)!].sort((a, b) => a - b);
        // Paired with the first root's run of the same round (back to back): the shared machine's
        // load drifts within seconds, so the per-round ratio is steadier than either median.
        const base = results.get(`${s}\t0`)!;
        const ratios = results
          .get(`${s}\t${i}`)!
          .map((x, r) => x / base[r])
          .sort((a, b) => a - b);
        console.log(
          `  ${s.padEnd(8)} [${i}] ${median(v).toFixed(1)}  ×${median(ratios).toFixed(3)} of [0]  (${v.map((x) => x.toFixed(1)).join(', ')})  ${app.root}`,
        );
      }
    // What a faster build may spend in memory instead (e.g. a larger young generation).
    console.log('\npeak RSS (VmHWM) / RSS now:');
    for (const [i, app] of apps.entries()) {
      const status = readFileSync(`/proc/${app.proc.pid}/status`, 'utf8');
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
      console.log(`  [${i}] ${kb('VmHWM').toFixed(0)} MiB / ${kb('VmRSS').toFixed(0)} MiB  ${app.root}`);
    }
  } finally {
    for (const a of apps) a.proc.kill('SIGTERM');
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
