/**
 * `npm run soak -- --minutes N` — mixed traffic for N minutes, sampling every `--interval`
 * seconds (default 10): request rate, p50/p99 of the window, errors (5xx and network), the app's
 * RSS and heap (its /metrics), Redis used_memory (and the sandbox PSP's share of it), and the completed/failed set sizes of every
 * Bull queue. Prints a table, then a verdict; exits 1 if a queue's finished sets outgrow the
 * removeOnComplete/removeOnFail policy (src/infra/queue/queues.ts), i.e. grow unbounded.
 *
 * By default it starts what it needs: the local infrastructure (this checkout's own servers are
 * reused; the servers it starts are stopped again at the end, on failure and on Ctrl-C), a fresh
 * `soak_*` database with migrations, and the app as shipped (compiled `dist/main.js`, built first
 * when `src/` changed; APP_ROLE=all; access log on; NODE_ENV=development only for the sandbox
 * payment route the mix pays through) on free ports, and removes the database and the Redis keys
 * at the end. `--url http://host:port` soaks an app
 * already running instead: then REDIS_URL / REDIS_PREFIX / ADMIN_EMAIL / ADMIN_PASSWORD must be
 * those of that app (environment or .env).
 *
 * Options: --minutes N (5), --interval S (10), --concurrency C (16), --rate R (requests per second
 * offered by the C clients together, open loop; 0 = each client as fast as it is answered), --url
 * URL, --keep (leave the database and Redis keys).
 *
 * The verdict also says whether the run **held** (issue 26: the box's sustainable rate is the
 * highest rate where it does): over the second half of the run, every queue's waiting count, the
 * Redis memory (less the sandbox PSP's books, which a real PSP keeps), the app's RSS and its heap are flat — their least-squares trend over the second
 * half grows by no more than {@link FLAT} allows — and nothing failed with a 5xx. Exit 1 when it
 * did not hold. Unpaid orders expire after ORDER_PAYMENT_TTL_MS (15 min): run 30 minutes so the
 * second half has expiries going on as fast as unpaid orders arrive.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { loadConfig, loadDotEnv } from '../src/infra/config/app-config';
import { runMigrations } from '../src/infra/database/migrate';
import { ensureBuilt } from './lib/build';
import { freePort, jsonRequest as json } from './lib/net';
import { DEFAULT_JOB_OPTIONS, QUEUES } from '../src/infra/queue/queues';
import { resolveLocalInfra } from './infra/infra-plan';
import { Component, infraDown, infraUp } from './infra/local-infra';

const ROOT = join(__dirname, '..');

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0)
    return process.argv[i + 1] && !process.argv[i + 1].startsWith('--') ? process.argv[i + 1] : 'true';
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : def;
}

const MINUTES = Number(arg('minutes', '5'));
const INTERVAL_S = Number(arg('interval', '10'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const EXTERNAL_URL = arg('url');
const KEEP = arg('keep') === 'true';
const RATE = Number(arg('rate', '0'));

/**
 * What "flat" allows over the second half, per series: the least-squares trend's growth across
 * the half may not exceed the larger of an absolute amount and a share of the series' mean.
 */
const FLAT = {
  waiting: { abs: 200, rel: 0.1 },
  redisMb: { abs: 5, rel: 0.05 },
  rssMb: { abs: 25, rel: 0.05 },
  heapMb: { abs: 20, rel: 0.1 },
};

/** Growth across the series' time span of its least-squares line. */
function trendGrowth(points: { t: number; v: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den ? (num / den) * (points[n - 1].t - points[0].t) : 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  url: string;
  redisUrl: string;
  prefix: string;
  admin: { email: string; password: string };
  stop: () => Promise<void>;
}

/** What this run started and stops again on success, failure and Ctrl-C. */
const owned = {
  abort: new AbortController(),
  infra: new Set<Component>(),
  infraUp: undefined as Promise<unknown> | undefined,
  target: undefined as Target | undefined,
  app: undefined as ChildProcess | undefined,
  stopping: undefined as Promise<void> | undefined,
};

/** Infrastructure, a fresh database, migrations, and the app as a child process. */
async function startOwnApp(): Promise<Target> {
  // The same resolver as `npm run up`: this checkout's own servers on the INFRA_* ports.
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
  if (owned.stopping) throw new Error('interrupted');
  const infra = {
    endpoints: {
      primaryUrl: local.urls.primary,
      replicaUrls: local.urls.replicas,
      redisUrl: local.urls.redis,
      smtpUrl: local.urls.smtp,
    },
  };
  const db = `soak_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const withDb = (u: string) => {
    const x = new URL(u);
    x.pathname = `/${db}`;
    return x.toString();
  };
  const [port, grpcPort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Development only for the sandbox PSP's confirm route (the mix pays orders through it).
    NODE_ENV: 'development',
    // The mix places orders for 24 customers non-stop: the per-customer order caps and rate
    // (docs/decisions/0018-order-limits.md) would turn most into 409/429 and change the load.
    ORDER_MAX_UNPAID_ORDERS: '1000000',
    ORDER_MAX_UNPAID_UNITS_PER_SKU: '1000000',
    ORDER_UNVERIFIED_MAX_UNPAID_ORDERS: '1000000',
    ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU: '1000000',
    ORDER_RATE_LIMIT: '1000000000',
    APP_ROLE: 'all',
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    DB_PRIMARY_URL: withDb(infra.endpoints.primaryUrl),
    DB_REPLICA_URLS: infra.endpoints.replicaUrls.map(withDb).join(','),
    REDIS_URL: infra.endpoints.redisUrl,
    REDIS_PREFIX: db,
    SMTP_URL: infra.endpoints.smtpUrl,
    // As shipped: info logs and one access line per request (issue 26), written where a
    // container's stdout would go (here: nowhere, but every line is still serialised and written).
    LOG_LEVEL: 'info',
    HTTP_LOG: 'true',
    SEED_DEMO_DATA: 'false',
    FLASH_SALE_PURCHASE_RATE_LIMIT: '1000000',
    REGISTER_RATE_LIMIT: '1000000',
  };
  const config = loadConfig(env);
  const admin = await createConnection({
    host: config.db.primary.host,
    port: config.db.primary.port,
    user: config.db.primary.user,
    password: config.db.primary.password,
  });
  await admin.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  for (const r of config.db.replicas) {
    const c = await createConnection({ host: r.host, port: r.port, user: r.user, password: r.password });
    for (let i = 0; i < 200; i++) {
      const [rows] = await c.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db]);
      if ((rows as unknown[]).length) break;
      await sleep(100);
    }
    await c.end();
  }
  await runMigrations(config.db.primary, () => undefined);
  // The app as shipped: compiled (the Dockerfile runs `node dist/main.js`).
  ensureBuilt(ROOT);
  const child: ChildProcess = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  owned.app = child;
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode} while starting`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (i > 600) throw new Error('the app did not become ready within 120 s');
    await sleep(200);
  }
  return {
    url,
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    admin: config.admin,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (KEEP) return;
      const c = await createConnection({
        host: config.db.primary.host,
        port: config.db.primary.port,
        user: config.db.primary.user,
        password: config.db.primary.password,
      });
      await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await c.end();
      const redis = new Redis(config.redis.url);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${config.redis.prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.unlink(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}

function externalApp(url: string): Target {
  loadDotEnv();
  const config = loadConfig(process.env);
  return {
    url: url.replace(/\/$/, ''),
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    admin: config.admin,
    stop: async () => undefined,
  };
}

// ------------------------------------------------------------------------------------------------

interface Sample {
  t: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  rssMb: number;
  heapMb: number;
  redisMb: number;
  /** The sandbox PSP's books within redisMb (see {@link sandboxMb}). */
  sandboxMb: number;
  /** Jobs waiting or delayed, all queues. */
  backlog: number;
  queues: Record<string, { completed: number; failed: number; wait: number; delayed: number }>;
}

/**
 * The sandbox PSP's books in Redis (its payment intents and refunds, kept 180 days as a real PSP
 * keeps its own): estimated as the number of its keys (SCAN) times the mean MEMORY USAGE of up to
 * 200 of them. A real PSP keeps these on its side, and production refuses the sandbox, so the
 * verdict judges the shop's Redis without them; the table shows both.
 */
async function sandboxMb(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  const some: string[] = [];
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*sandbox*`, 'COUNT', 5000);
    cursor = next;
    n += keys.length;
    for (const k of keys) if (some.length < 200) some.push(k);
  } while (cursor !== '0');
  if (!n) return 0;
  const sizes = (await Promise.all(some.map((k) => redis.call('MEMORY', 'USAGE', k)))) as (number | null)[];
  const mean = sizes.reduce<number>((a, b) => a + (b ?? 0), 0) / some.length;
  return (n * mean) / 2 ** 20;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.trim().split(/\s+/).pop()) : NaN;
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;

async function main(): Promise<number> {
  const started = Date.now();
  console.log(
    `soak: ${MINUTES} min, sample every ${INTERVAL_S} s, ${CONCURRENCY} concurrent clients` +
      (RATE ? `, offering ${RATE} req/s` : ', each as fast as it is answered'),
  );
  const target = EXTERNAL_URL ? externalApp(EXTERNAL_URL) : await startOwnApp();
  owned.target = target;
  const api = (p: string) => `${target.url}/api/v1${p}`;
  console.log(
    `app: ${target.url} (redis prefix ${target.prefix})${EXTERNAL_URL ? '' : ', started by the soak'}`,
  );
  const redis = new Redis(target.redisUrl);
  let exitCode = 0;
  try {
    // --- fixtures: an admin, customers, a product with plenty of stock, a long flash sale ---
    const adminToken: string = (await json('POST', api('/auth/login'), target.admin)).body?.accessToken;
    if (!adminToken) throw new Error('admin login failed (ADMIN_EMAIL / ADMIN_PASSWORD)');
    const customers: { token: string; email: string; password: string }[] = [];
    for (let i = 0; i < 24; i++) {
      const email = `soak-${randomUUID()}@soak.local`;
      const password = `soak-${randomBytes(6).toString('hex')}`;
      const r = await json('POST', api('/auth/register'), { email, password, name: 'Soak' });
      if (r.status !== 201) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
      customers.push({ token: r.body.accessToken, email, password });
    }
    const sku = `SOAK-${randomBytes(4).toString('hex').toUpperCase()}`;
    const saleSku = `${sku}-FS`;
    const product = await json(
      'POST',
      api('/products'),
      {
        name: 'Soak product',
        description: 'Soak test product',
        variants: [
          { sku, price: 1200, currency: 'EUR', stockOnHand: 1_000_000_000 },
          { sku: saleSku, price: 9900, currency: 'EUR', stockOnHand: 1_000_000 },
        ],
      },
      adminToken,
    );
    if (product.status !== 201) throw new Error(`product: ${product.status} ${JSON.stringify(product.body)}`);
    const sale = await json(
      'POST',
      api('/flash-sales'),
      {
        sku: saleSku,
        price: 4900,
        quantity: 1_000_000,
        perUserLimit: 1_000,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + (MINUTES + 10) * 60_000).toISOString(),
      },
      adminToken,
    );
    if (sale.status !== 201) throw new Error(`flash sale: ${sale.status} ${JSON.stringify(sale.body)}`);

    // --- the mix: reads, orders (some cancelled, some paid through the sandbox), flash purchases, logins ---
    let latencies: number[] = [];
    let requests = 0;
    let errors = 0;
    const codes: Record<string, number> = {};
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const t0 = performance.now();
      let status = 0;
      let res: { status: number; body: any } | undefined;
      try {
        res = await json(method, api(path), body, token);
        status = res.status;
      } catch {
        status = 0;
      }
      latencies.push(performance.now() - t0);
      requests++;
      codes[status] = (codes[status] ?? 0) + 1;
      if (status === 0 || status >= 500) errors++;
      return res;
    };
    const mix: [number, (c: (typeof customers)[number]) => Promise<unknown>][] = [
      [30, () => call('GET', '/products?limit=20')],
      [15, () => call('GET', `/products/${product.body.id}`)],
      [10, (c) => call('GET', '/orders?limit=20', undefined, c.token)],
      [
        15,
        async (c) => {
          const o = await call('POST', '/orders', { items: [{ sku, quantity: 1 }] }, c.token);
          if (o?.status === 201 && Math.random() < 0.4)
            await call('POST', `/orders/${o.body.id}/cancel`, undefined, c.token);
        },
      ],
      [
        10,
        async (c) => {
          const o = await call('POST', '/orders', { items: [{ sku, quantity: 1 }] }, c.token);
          if (o?.status !== 201) return;
          const p = await call('POST', '/payments', { orderId: o.body.id }, c.token);
          if (p?.status === 201)
            await call('POST', `/payments/${p.body.id}/confirm`, { card: '4242424242424242' }, c.token);
        },
      ],
      [15, (c) => call('POST', `/flash-sales/${sale.body.id}/purchase`, undefined, c.token)],
      [3, (c) => call('POST', '/auth/login', { email: c.email, password: c.password })],
      [2, (c) => call('GET', '/users/me', undefined, c.token)],
    ];
    const total = mix.reduce((s, [w]) => s + w, 0);
    const pick = () => {
      let r = Math.random() * total;
      for (const [w, fn] of mix) if ((r -= w) < 0) return fn;
      return mix[0][1];
    };

    const queueNames = Object.values(QUEUES);
    const sample = async (t: number): Promise<Sample> => {
      const sorted = latencies.sort((a, b) => a - b);
      latencies = [];
      const m = await (await fetch(`${target.url}/metrics`)).text();
      const info = await redis.info('memory');
      const queues: Sample['queues'] = {};
      let backlog = 0;
      for (const q of queueNames) {
        const key = `${target.prefix}:bull:${q}`;
        const [completed, failed, wait, delayed] = await Promise.all([
          redis.zcard(`${key}:completed`),
          redis.zcard(`${key}:failed`),
          redis.llen(`${key}:wait`),
          redis.zcard(`${key}:delayed`),
        ]);
        queues[q] = { completed, failed, wait, delayed };
        backlog += wait + delayed;
      }
      return {
        t,
        requests,
        errors,
        p50: pct(sorted, 50),
        p99: pct(sorted, 99),
        rssMb: metric(m, 'shop_process_resident_memory_bytes') / 2 ** 20,
        heapMb: metric(m, 'shop_nodejs_heap_size_used_bytes') / 2 ** 20,
        redisMb: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) / 2 ** 20,
        sandboxMb: await sandboxMb(redis, target.prefix),
        backlog,
        queues,
      };
    };

    const header = [
      't s'.padStart(5),
      'req/s'.padStart(6),
      'err'.padStart(4),
      'p50 ms'.padStart(7),
      'p99 ms'.padStart(7),
      'RSS MB'.padStart(7),
      'heap MB'.padStart(8),
      'redis MB'.padStart(9),
      'sandbox'.padStart(8),
      'backlog'.padStart(8),
      ...queueNames.map((q) => `${q} c/f`.padStart(Math.max(12, q.length + 4))),
    ];
    console.log(header.join(' '));
    const samples: Sample[] = [];
    const endAt = Date.now() + MINUTES * 60_000;
    const t0 = Date.now();
    let stop = false;
    // Open loop with --rate: one start every 1/RATE s across the clients; a client that is late
    // starts at once (never more than CONCURRENCY in flight), so an app that cannot keep up shows
    // as a lower achieved rate and a higher p99, not as fewer offered requests later.
    // Access tokens live JWT_ACCESS_TTL_SECONDS (15 min): the customers log in again every 10 min
    // (as a client refreshes), else every authenticated call of a longer run would be a 401.
    const relogin = setInterval(
      () =>
        void Promise.all(
          customers.map(async (c) => {
            const r = await json('POST', api('/auth/login'), { email: c.email, password: c.password });
            if (r.status === 200) c.token = r.body.accessToken;
          }),
        ).catch(() => undefined), // a failed login shows as 401s below, which fail the verdict
      10 * 60_000,
    );
    let nextStart = Date.now();
    const workers = Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (!stop) {
        if (RATE) {
          const at = nextStart;
          nextStart = Math.max(nextStart, Date.now() - 1000) + 1000 / RATE;
          if (at > Date.now()) await sleep(at - Date.now());
          if (stop) break;
        }
        await pick()(customers[w % customers.length]);
      }
    });
    let prevRequests = 0;
    while (Date.now() < endAt) {
      await sleep(Math.min(INTERVAL_S * 1000, Math.max(0, endAt - Date.now())));
      const s = await sample(Math.round((Date.now() - t0) / 1000));
      const prevT = samples.length ? samples[samples.length - 1].t : 0;
      const rate = Math.round((s.requests - prevRequests) / Math.max(1, s.t - prevT));
      prevRequests = s.requests;
      samples.push(s);
      console.log(
        [
          String(s.t).padStart(5),
          String(rate).padStart(6),
          String(s.errors).padStart(4),
          s.p50.toFixed(1).padStart(7),
          s.p99.toFixed(1).padStart(7),
          s.rssMb.toFixed(0).padStart(7),
          s.heapMb.toFixed(0).padStart(8),
          s.redisMb.toFixed(1).padStart(9),
          s.sandboxMb.toFixed(1).padStart(8),
          String(s.backlog).padStart(8),
          ...queueNames.map((q) =>
            `${s.queues[q].completed}/${s.queues[q].failed}`.padStart(Math.max(12, q.length + 4)),
          ),
        ].join(' '),
      );
    }
    stop = true;
    clearInterval(relogin);
    await Promise.all(workers);

    // --- verdict ---
    const keep = (o: unknown) => (typeof o === 'object' && o ? (o as { count?: number }).count : undefined);
    const capCompleted = keep(DEFAULT_JOB_OPTIONS.removeOnComplete) ?? Infinity;
    const capFailed = keep(DEFAULT_JOB_OPTIONS.removeOnFail) ?? Infinity;
    // Bull trims after each job finishes; concurrent finishes may overshoot by a few.
    const slack = 50;
    const problems: string[] = [];
    console.log(`\nfinished sets (policy: completed ≤ ${capCompleted}, failed ≤ ${capFailed}):`);
    for (const q of queueNames) {
      const maxC = Math.max(...samples.map((s) => s.queues[q].completed));
      const maxF = Math.max(...samples.map((s) => s.queues[q].failed));
      const reached = maxC >= capCompleted ? 'cap reached, held' : 'below cap';
      console.log(`  ${q.padEnd(11)} completed max ${maxC} (${reached}), failed max ${maxF}`);
      if (maxC > capCompleted + slack) problems.push(`${q}: completed set at ${maxC} > ${capCompleted}`);
      if (maxF > capFailed + slack) problems.push(`${q}: failed set at ${maxF} > ${capFailed}`);
    }
    const first = samples[0];
    const last = samples[samples.length - 1];
    const half = samples[Math.floor(samples.length / 2)];
    const slope = (a: number, b: number, dt: number) => (dt > 0 ? ((b - a) / dt) * 60 : 0);
    console.log(
      `requests ${last.requests} (${Math.round(last.requests / Math.max(1, last.t))}/s), errors ${last.errors}, ` +
        `statuses ${JSON.stringify(codes)}\n` +
        `RSS ${first.rssMb.toFixed(0)} → ${last.rssMb.toFixed(0)} MB (second half ${slope(half.rssMb, last.rssMb, last.t - half.t).toFixed(1)} MB/min), ` +
        `heap ${first.heapMb.toFixed(0)} → ${last.heapMb.toFixed(0)} MB, ` +
        `Redis ${first.redisMb.toFixed(1)} → ${last.redisMb.toFixed(1)} MB (second half ${slope(half.redisMb, last.redisMb, last.t - half.t).toFixed(2)} MB/min; ` +
        `the sandbox PSP's books ${first.sandboxMb.toFixed(1)} → ${last.sandboxMb.toFixed(1)} MB of it); ` +
        `p99 first ${first.p99.toFixed(1)} ms, last ${last.p99.toFixed(1)} ms`,
    );
    if (last.errors > 0) console.log(`note: ${last.errors} requests failed with 5xx or no answer`);
    // Not a failure (the policy bounds finished jobs only), but worth seeing: a queue whose
    // waiting list grew through the whole second half has consumers slower than its producers.
    const secondHalf = samples.slice(Math.floor(samples.length / 2));
    for (const q of queueNames) {
      const w = secondHalf.map((s) => s.queues[q].wait);
      const d = (k: 'wait' | 'delayed') => `${first.queues[q][k]} → ${last.queues[q][k]}`;
      if (last.queues[q].wait + last.queues[q].delayed > 0)
        console.log(`  ${q.padEnd(11)} waiting ${d('wait')}, delayed ${d('delayed')}`);
      if (w.length > 1 && w.every((v, i) => i === 0 || v > w[i - 1]))
        console.log(`note: ${q} is falling behind: waiting jobs grew in every sample of the second half`);
    }
    if (problems.length) {
      console.log(`FAIL: finished sets grow past their policy:\n  ${problems.join('\n  ')}`);
      exitCode = 1;
    } else console.log('OK: every finished set stays within its removeOnComplete/removeOnFail policy');

    // --- held? every series flat over the second half, no 5xx ---
    const series: [string, keyof typeof FLAT, (s: Sample) => number][] = [
      ...queueNames.map((q): [string, keyof typeof FLAT, (s: Sample) => number] => [
        `${q} waiting`,
        'waiting',
        (s) => s.queues[q].wait,
      ]),
      // The sandbox PSP's books are left out: a real PSP keeps them (see sandboxMb).
      ['Redis less sandbox MB', 'redisMb', (s) => s.redisMb - s.sandboxMb],
      ['RSS MB', 'rssMb', (s) => s.rssMb],
      ['heap MB', 'heapMb', (s) => s.heapMb],
    ];
    const unflat: string[] = [];
    console.log(`
second half (${half.t}–${last.t} s), trend growth across it (allowed):`);
    for (const [label, kind, of] of series) {
      const pts = secondHalf.map((s) => ({ t: s.t, v: of(s) }));
      const growth = trendGrowth(pts);
      const mean = pts.reduce((a, p) => a + p.v, 0) / Math.max(1, pts.length);
      const allowed = Math.max(FLAT[kind].abs, FLAT[kind].rel * mean);
      const flat = growth <= allowed;
      console.log(
        `  ${label.padEnd(22)} ${of(half).toFixed(1)} → ${of(last).toFixed(1)}, trend ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} (≤ ${allowed.toFixed(1)}) ${flat ? 'flat' : 'GROWING'}`,
      );
      if (!flat) unflat.push(label);
    }
    const achieved = (last.requests - half.requests) / Math.max(1, last.t - half.t);
    // The mix's calls are all valid: a 401 means the load was not what it should have been.
    const unauthorized = codes['401'] ?? 0;
    if (unflat.length || last.errors > 0 || unauthorized > 0) {
      console.log(
        `DID NOT HOLD at ${RATE ? `${RATE} req/s offered` : `${CONCURRENCY} closed-loop clients`} (${achieved.toFixed(0)} req/s achieved in the second half): ` +
          [
            unflat.length ? `growing: ${unflat.join(', ')}` : '',
            last.errors ? `${last.errors} errors` : '',
            unauthorized ? `${unauthorized} answers 401 (the load was not the mix)` : '',
          ]
            .filter(Boolean)
            .join('; '),
      );
      exitCode = 1;
    } else
      console.log(
        `HELD at ${RATE ? `${RATE} req/s offered` : `${CONCURRENCY} closed-loop clients`}: ${achieved.toFixed(0)} req/s achieved in the second half, every queue, Redis, RSS and heap flat, no errors`,
      );
  } finally {
    redis.disconnect();
  }
  console.log(`soak done in ${Math.round((Date.now() - started) / 1000)} s`);
  return exitCode;
}

/** Stops the app, drops its database and keys (unless --keep), and stops the servers this run started. */
function stop(code: number): Promise<void> {
  owned.stopping ??= (async () => {
    owned.abort.abort(); // infraUp spawns nothing more and stops waiting
    try {
      if (owned.target) await owned.target.stop();
      else if (owned.app && owned.app.exitCode === null && owned.app.signalCode === null) {
        const exited = new Promise((r) => owned.app!.once('exit', r));
        owned.app.kill('SIGTERM');
        await Promise.race([exited, sleep(20_000)]);
        if (owned.app.exitCode === null && owned.app.signalCode === null) owned.app.kill('SIGKILL');
      }
    } catch (err) {
      console.error(`cleanup: ${(err as Error).message}`);
    }
    await owned.infraUp?.catch(() => undefined);
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
  (code) => stop(code),
  (err: Error) => {
    if (!owned.stopping) console.error(`soak failed: ${err.stack ?? err.message}`);
    return stop(1);
  },
);
