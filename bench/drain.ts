/**
 * The order follow-up drain alone (issue 26), without the whole bench: `--orders` order.created
 * events are written to the outbox of a private database (as OutboxWriter writes them: two lines
 * with names and prices, 100 buyers), then one fresh worker (`APP_ROLE=worker`, the app built in
 * `--app`, default this checkout) relays them and handles each one (its confirmation mail over
 * SMTP to the local mail catcher; versions before decision 0034 also queued a delayed expiry job) until the outbox is handled and the
 * email queue is empty. Reports CPU per order from /proc: the worker's, less what one start of
 * it costs (a first start with nothing to drain), and the SMTP sink's over the same time.
 * A/B: build both versions (`npm run build`; another commit: `git archive <commit> | tar -x -C dir`,
 * symlink node_modules, `npx nest build` there) and run this back to back with `--app` on each.
 *
 *   npm run infra:up && npm run build          # the local infrastructure on the INFRA_* ports
 *   npx ts-node --transpile-only bench/drain.ts --orders 8000 [--app /tmp/other] [--node-args --cpu-prof]
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Bull from 'bull';
import { createPool } from 'mysql2/promise';
import { infraEndpoints, infraProcesses } from '../scripts/infra/local-infra';
import { newId } from '../src/common/ids';
import { mysqlAccount, recreateDatabase } from './lib/fixtures';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const ORDERS = Number(arg('orders', '8000'));
const APP = resolve(arg('app', join(__dirname, '..')));
const NODE_ARGS = arg('node-args', '').split(' ').filter(Boolean);
const DB = 'drain_bench';
const PORT = 40990;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds of a process from /proc: user + system, or system alone. */
function cpuSec(pid: number, only?: 'sys'): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((only ? 0 : Number(fields[11])) + Number(fields[12])) / 100;
}

const endpoints = infraEndpoints();
const inDb = (u: string) => Object.assign(new URL(u), { pathname: `/${DB}` }).toString();
const prefix = `drain${Date.now().toString(36)}`;
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'production',
  APP_ROLE: 'worker',
  PORT: String(PORT),
  GRPC_PORT: String(PORT + 1),
  DB_PRIMARY_URL: inDb(endpoints.primaryUrl),
  DB_REPLICA_URLS: endpoints.replicaUrls.map(inDb).join(','),
  REDIS_URL: endpoints.redisUrl,
  REDIS_PREFIX: prefix,
  SMTP_URL: endpoints.smtpUrl,
  JWT_SECRET: 'drain-bench-secret-0123456789abcdef',
  PAYMENT_WEBHOOK_SECRET: 'drain-webhook-secret-0123',
  ADMIN_EMAIL: 'admin@drain.local',
  ADMIN_PASSWORD: 'drain-admin-password',
  PUBLIC_WEB_URL: 'http://shop.drain.local',
  LOG_LEVEL: 'info',
  SEED_DEMO_DATA: 'false',
};

async function waitReady(): Promise<void> {
  for (const until = Date.now() + 120_000; Date.now() < until; await sleep(200)) {
    const ok = await fetch(`http://127.0.0.1:${PORT}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
  }
  throw new Error('the worker did not get ready');
}

function startWorker(): ChildProcess {
  return spawn(process.execPath, [...NODE_ARGS, join(APP, 'dist', 'main.js')], {
    cwd: APP,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const stop = (p: ChildProcess) =>
  new Promise<void>((r) => {
    p.once('exit', () => r());
    p.kill('SIGTERM');
  });

async function main(): Promise<void> {
  const root = createPool({ ...mysqlAccount(endpoints.primaryUrl), connectionLimit: 2 });
  await recreateDatabase(root, DB);
  await new Promise<void>((ok, fail) =>
    spawn(process.execPath, [join(APP, 'dist', 'infra', 'database', 'migrate.js')], {
      cwd: APP,
      env,
      stdio: 'ignore',
    }).once('exit', (code) => (code === 0 ? ok() : fail(new Error(`migrate exited ${code}`)))),
  );
  const db = createPool({ uri: inDb(endpoints.primaryUrl), connectionLimit: 2 });

  // A start with nothing to drain: what booting costs, subtracted below.
  let worker = startWorker();
  await waitReady();
  await sleep(2000);
  const bootCpu = cpuSec(worker.pid!);
  const bootSys = cpuSec(worker.pid!, 'sys');
  await stop(worker);

  const now = new Date();
  const users = Array.from({ length: 100 }, (_, i) => [
    newId(),
    `buyer-${i}@drain.local`,
    'not-a-hash',
    `Buyer ${i}`,
    'customer',
    now,
    now,
  ]);
  await db.query(
    'INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at) VALUES ?',
    [users],
  );
  const expiresAt = new Date(now.getTime() + 3600_000).toISOString();
  for (let done = 0; done < ORDERS; done += 1000) {
    const rows = Array.from({ length: Math.min(1000, ORDERS - done) }, (_, i) => {
      const orderId = newId();
      const eventId = newId();
      const event = {
        eventId,
        type: 'order.created',
        orderId,
        userId: users[(done + i) % users.length][0],
        status: 'PENDING_PAYMENT',
        source: 'web',
        flashSaleId: null,
        reservationId: null,
        paymentId: null,
        items: [
          { sku: 'TEE-M', quantity: 2, name: 'T-shirt M', unitPrice: 2500, currency: 'EUR' },
          { sku: 'MUG-1', quantity: 1, name: 'Mug', unitPrice: 1250, currency: 'EUR' },
        ],
        total: { amount: 6250, currency: 'EUR' },
        expiresAt,
        occurredAt: now.toISOString(),
      };
      return [eventId, orderId, 'order.created', JSON.stringify(event), now];
    });
    await db.query('INSERT INTO outbox (id, aggregate_id, type, payload, created_at) VALUES ?', [rows]);
  }

  const sinkPid = infraProcesses().mail[0];
  const queueOpts = { redis: endpoints.redisUrl, prefix: `${prefix}:bull` };
  const email = new Bull('email', queueOpts.redis, { prefix: queueOpts.prefix });
  const t0 = Date.now();
  const sink0 = sinkPid ? cpuSec(sinkPid) : NaN;
  worker = startWorker();
  for (;;) {
    await sleep(250);
    const [[{ n }]] = (await db.query(
      'SELECT COUNT(*) AS n FROM outbox WHERE handled_at IS NULL',
    )) as unknown as [{ n: number }[]];
    const c = await email.getJobCounts();
    // Every event handled means every mail job queued; none left waiting, running or retrying
    // (a periodic job's next run, e.g. the sent-mail purge, waits delayed for good).
    const retrying = c.delayed - (await email.getRepeatableCount());
    if (!Number(n) && !c.waiting && !c.active && retrying <= 0) break;
  }
  const sec = (Date.now() - t0) / 1000;
  const workerCpu = cpuSec(worker.pid!) - bootCpu;
  const workerSys = cpuSec(worker.pid!, 'sys') - bootSys;
  const sinkCpu = sinkPid ? cpuSec(sinkPid) - sink0 : NaN;
  const failed = (await email.getJobCounts()).failed;
  const orders = new Bull('orders', endpoints.redisUrl, { prefix: `${prefix}:bull` });
  const expiryJobs = (await orders.getJobCounts()).delayed;
  await orders.close();
  await stop(worker);
  await email.close();
  await db.end();
  await root.query(`DROP DATABASE IF EXISTS ${DB}`);
  await root.end();
  console.log(
    JSON.stringify({
      app: APP,
      orders: ORDERS,
      seconds: Number(sec.toFixed(1)),
      ordersPerSec: Math.round(ORDERS / sec),
      workerUsPerOrder: Math.round((workerCpu * 1e6) / ORDERS),
      workerSysUsPerOrder: Math.round((workerSys * 1e6) / ORDERS),
      workerBootCpuSec: bootCpu,
      smtpSinkUsPerOrder: Math.round((sinkCpu * 1e6) / ORDERS),
      failedMailJobs: failed,
      expiryJobs,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
