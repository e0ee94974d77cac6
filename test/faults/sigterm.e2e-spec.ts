import * as grpc from '@grpc/grpc-js';
import Redis from 'ioredis';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../../src/infra/config/app-config';
import { registerUser, RegisteredUser } from '../support/auth';
import { orderServiceClient } from '../support/grpc';
import { TestApp, eventually, http } from '../support/test-app';
import { sql } from '../setup/test-database';
import { Outcome, closedLoop, countBy, sleep, timedFetch } from './load';
import { freePort } from '../../scripts/lib/net';

const ROOT = join(__dirname, '..', '..');

/**
 * Fault 7 of issue 10: SIGTERM to a running instance (a real `node src/main.ts` child process)
 * under HTTP and gRPC order load with its queues busy. In-flight requests and jobs finish, the
 * process exits 0 by itself, no Bull job is left "active" (it would have to wait for the
 * stalled-job check to run again: jobs taken but not started are handed back to the wait list),
 * and every order that exists was answered to its client.
 */
describe('fault: SIGTERM under HTTP, gRPC and queue load', () => {
  let child: ChildProcess;
  let exited: Promise<{ code: number | null; signal: string | null; at: number }>;
  let base: Pick<TestApp, 'url' | 'api'>;
  let grpcUrl: string;
  const prefix = `${process.env.REDIS_PREFIX ?? 'test'}-sigterm-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
  let stderr = '';
  let stdout = '';

  beforeAll(async () => {
    const [port, grpcPort] = [await freePort(), await freePort()];
    base = { url: `http://127.0.0.1:${port}`, api: (p: string) => `http://127.0.0.1:${port}/api/v1${p}` };
    grpcUrl = `127.0.0.1:${grpcPort}`;
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        APP_ROLE: 'all',
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        REDIS_PREFIX: prefix,
        LOG_LEVEL: 'info',
        HTTP_LOG: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    await eventually(
      async () => (await http('GET', `${base.url}/health/ready`)).status === 200,
      90_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; exit ${child.exitCode ?? child.signalCode}; stderr: ${stderr}`);
    });
  }, 120_000);
  afterAll(async () => {
    if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('finishes in-flight HTTP, gRPC and jobs, answers every order it created, exits 0 and leaves no job active or failed by the shutdown', async () => {
    const admin = (
      await http('POST', base.api('/auth/login'), {
        body: { email: config.admin.email, password: config.admin.password },
      })
    ).body.accessToken;
    const sku = `SIGTERM-${randomBytes(4).toString('hex').toUpperCase()}`;
    const product = await http('POST', base.api('/products'), {
      token: admin,
      body: { name: 'SIGTERM test', variants: [{ sku, price: 500, currency: 'EUR', stockOnHand: 100_000 }] },
    });
    expect(product.status).toBe(201);
    const users: RegisteredUser[] = [];
    for (let i = 0; i < 2; i++) users.push(await registerUser(base as TestApp));
    const [webUser, rpcUser] = users;
    const client = orderServiceClient(grpcUrl);

    const t0 = Date.now();
    let signalAt = Infinity;
    let stop = false;
    void exited.then(() => (stop = true)); // `exited` only resolves: ends the load loops
    const web: Outcome[] = [];
    const rpc: (Outcome & { message?: string })[] = [];
    const httpLoad = closedLoop(
      8,
      () => stop,
      async () => {
        web.push(
          await timedFetch(t0, base.api('/orders'), {
            method: 'POST',
            token: webUser.accessToken,
            body: { items: [{ sku, quantity: 1 }] },
            timeoutMs: 20_000,
          }),
        );
        if (web[web.length - 1].status !== 201) await sleep(50);
      },
    );
    const grpcLoad = closedLoop(
      4,
      () => stop,
      async () => {
        const start = Date.now() - t0;
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${rpcUser.accessToken}`);
        const r = await new Promise<{ status: string; id?: string; message?: string }>((resolve) =>
          client.CreateOrder(
            { items: [{ sku, quantity: 1 }] },
            md,
            { deadline: Date.now() + 20_000 },
            (err: grpc.ServiceError | null, order: { id: string }) =>
              resolve(
                err
                  ? { status: grpc.status[err.code], message: err.details }
                  : { status: 'OK', id: order.id },
              ),
          ),
        );
        rpc.push({ start, end: Date.now() - t0, ...r });
        if (r.status !== 'OK') await sleep(50);
      },
    );
    await sleep(2000);
    const redis = new Redis(config.redis.url);
    const activeBefore = await activeJobs(redis, prefix);
    child.kill('SIGTERM');
    signalAt = Date.now() - t0;
    const exit = await exited;
    await Promise.all([httpLoad, grpcLoad]);
    client.close();

    // Drained and exited by itself: Nest runs the shutdown hooks, then re-raises the signal
    // (so the exit is "by SIGTERM"); main.ts' watchdog would have exited 1 instead.
    expect(stdout).toMatch(/shutdown on SIGTERM: not ready, draining/);
    expect({ code: exit.code, signal: exit.signal, stderr: /did not finish/.test(stderr) }).toEqual({
      code: null,
      signal: 'SIGTERM',
      stderr: false,
    });
    // No job left "active": every job it had started finished before the process went away.
    const activeAfter = await activeJobs(redis, prefix);
    // ...and none of them was failed by the shutdown itself (its Redis or SMTP connection closed
    // under it), which would make it run, and send its mail, again.
    const failedByShutdown = await jobsFailedWith(redis, prefix, /Connection is closed|closed/i);
    redis.disconnect();
    expect(activeAfter).toEqual({});
    expect(failedByShutdown).toEqual([]);

    // Every order that exists was answered (HTTP 201 / gRPC OK), and every such answer is an order.
    const rows = (await sql(
      config.db.primary,
      `SELECT id, user_id FROM \`${config.db.primary.database}\`.orders WHERE user_id IN (?, ?)`,
      [webUser.user.id, rpcUser.user.id],
    )) as { id: string; user_id: string }[];
    const answered = [...web.filter((o) => o.status === 201), ...rpc.filter((o) => o.status === 'OK')];
    expect(rows.map((r) => r.id).sort()).toEqual(answered.map((o) => o.id).sort());
    // What was refused during the drain was refused cleanly: 503 / UNAVAILABLE or a closed port.
    const refusedWeb = web.filter((o) => o.status !== 201);
    for (const o of refusedWeb) expect([503, 'no answer']).toContain(o.status);
    for (const o of refusedWeb.filter((x) => x.status === 'no answer'))
      expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(o.error);
    for (const o of rpc.filter((x) => x.status !== 'OK')) expect(o.status).toBe('UNAVAILABLE');
    // Nothing lost downstream: each order's event is in the outbox (published, or waiting for the next instance).
    const outbox = (await sql(
      config.db.primary,
      `SELECT COUNT(*) AS n, SUM(published_at IS NULL) AS pending FROM \`${config.db.primary.database}\`.outbox WHERE aggregate_id IN (?)`,
      [rows.length ? rows.map((r) => r.id) : ['none']],
    )) as { n: number; pending: number | null }[];
    expect(Number(outbox[0].n)).toBe(rows.length);

    const inFlight = (list: Outcome[], ok: (o: Outcome) => boolean) =>
      list.filter((o) => o.start < signalAt && o.end > signalAt && ok(o)).length;
    console.log(
      `fault SIGTERM: signal at ${signalAt} ms, exit ${exit.signal ?? exit.code} after ${exit.at - t0 - signalAt} ms; ` +
        `HTTP ${web.length} ${JSON.stringify(countBy(web, (o) => (o.status === 'no answer' ? o.error! : o.status)))}, ` +
        `in flight at the signal ${inFlight(web, () => true)} (${inFlight(web, (o) => o.status === 201)} answered 201); ` +
        `gRPC ${rpc.length} ${JSON.stringify(countBy(rpc, (o) => o.status))}, in flight ${inFlight(rpc, () => true)} ` +
        `(${inFlight(rpc, (o) => o.status === 'OK')} OK); jobs active before ${JSON.stringify(activeBefore)}, after 0; ` +
        `orders expected ${answered.length}, found ${rows.length}; outbox rows ${outbox[0].n} (${Number(outbox[0].pending ?? 0)} waiting); ` +
        `unstarted jobs handed back: ${(stdout.match(/job\(s\) not started handed back/g) ?? []).length} queue(s)`,
    );
  }, 120_000);
});

/** `queue:id: reason` of every failed or retry-waiting job under a prefix whose last failure matches. */
async function jobsFailedWith(redis: Redis, prefix: string, reason: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const idKey of await redis.keys(`${prefix}:bull:*:id`)) {
    const queue = idKey.slice(0, -':id'.length);
    const ids = [
      ...(await redis.zrange(`${queue}:failed`, 0, -1)),
      ...(await redis.zrange(`${queue}:delayed`, 0, -1)),
    ];
    for (const id of ids) {
      const failed = await redis.hget(`${queue}:${id}`, 'failedReason');
      if (failed && reason.test(failed)) out.push(`${queue.split(':').pop()}:${id}: ${failed}`);
    }
  }
  return out;
}

/** Active job count per Bull queue under a prefix (queues with none are left out). */
async function activeJobs(redis: Redis, prefix: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const keys = await redis.keys(`${prefix}:bull:*:active`);
  for (const k of keys) {
    const n = await redis.llen(k);
    if (n) out[k.split(':').slice(-2, -1)[0]] = n;
  }
  return out;
}
