/**
 * `npm run up`: the whole system on this machine.
 * local infrastructure (each server the environment or .env does not name elsewhere, see
 * scripts/infra/infra-plan.ts) → migrations → the app with APP_ROLE=all and idempotent demo data
 * → prints the URLs. Ctrl-C at any point, or a failure at any step, stops the app and every server
 * this run started (servers it found running are left alone).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { appConfig } from '../src/infra/config/app-config';
import { adminLogin } from './lib/banner';
import { resolveLocalInfra } from './infra/infra-plan';
import { infraDown, infraUp } from './infra/local-infra';

const log = (l: string) => console.log(`  ${l}`);

/** Everything this run started and must stop, whatever the phase it is interrupted in. */
const run = {
  abort: new AbortController(),
  /** Components whose server this run spawned (announced before the spawn, so none escapes). */
  infra: new Set<string>(),
  infraUp: undefined as Promise<unknown> | undefined,
  migrations: undefined as Promise<unknown> | undefined,
  app: undefined as ChildProcess | undefined,
  stopping: undefined as Promise<void> | undefined,
};

function stop(code: number): Promise<void> {
  run.stopping ??= (async () => {
    console.log('\nstopping...');
    run.abort.abort(); // infraUp spawns nothing more and stops waiting
    const app = run.app;
    if (app && app.exitCode === null && app.signalCode === null) {
      const exited = new Promise((r) => app.once('exit', r));
      app.kill('SIGTERM');
      await exited;
    }
    await run.infraUp?.catch(() => undefined);
    if (run.migrations) {
      // A migration cut off between two DDL statements cannot be rolled back: let it finish.
      console.log('  waiting for the running migration to finish...');
      await run.migrations.catch(() => undefined);
    }
    if (run.infra.size) {
      try {
        await infraDown({ only: [...run.infra], log });
      } catch (err) {
        console.error(`  could not stop ${[...run.infra].join(', ')}: ${(err as Error).message}`);
        code ||= 1;
      }
    }
    process.exit(code);
  })();
  return run.stopping;
}

async function main(): Promise<void> {
  const plan = resolveLocalInfra({ dotenv: 'all' });
  // The app defaults to production (fail closed); `npm run up` is the local development system.
  process.env.NODE_ENV ??= 'development';
  let mailWeb = '(SMTP_URL names your mail server)';
  if (plan.components.length) {
    console.log(`starting local infrastructure (${plan.components.join(', ')})...`);
    run.infraUp = infraUp({
      only: plan.components,
      log,
      signal: run.abort.signal,
      onStart: (c) => run.infra.add(c),
    });
    const res = (await run.infraUp) as Awaited<ReturnType<typeof infraUp>>;
    if (plan.components.includes('mail')) mailWeb = res.endpoints.mailWebUrl;
  }
  if (run.stopping) return;
  Object.assign(process.env, plan.env);
  process.env.APP_ROLE = 'all';
  process.env.SEED_DEMO_DATA ??= 'true';
  const config = appConfig();

  console.log('applying migrations...');
  const { runMigrations } = await import('../src/infra/database/migrate');
  run.migrations = runMigrations(config.db.primary, log);
  try {
    await run.migrations;
  } finally {
    run.migrations = undefined;
  }
  if (run.stopping) return;

  // The app runs in a child process so Ctrl-C can drain it before the servers stop.
  const child = spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), join(__dirname, '..', 'src', 'main.ts')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json'), ...process.env },
    },
  );
  run.app = child;
  child.on('exit', (code) => void stop(code ?? 1)); // stop() catches its failures, then exits
  const base = `http://localhost:${config.port}`;
  const waitReady = async () => {
    for (let i = 0; i < 240 && !run.stopping; i++) {
      try {
        const r = await fetch(`${base}/health/ready`);
        if (r.status === 200) return true;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return false;
  };
  if (!(await waitReady())) {
    if (!run.stopping) console.error('the app did not become ready; see the log above');
    return;
  }
  console.log(
    [
      '',
      'nest-commerce is up:',
      `  REST API      ${base}/api/v1`,
      `  Swagger UI    ${base}/docs   (OpenAPI: ${base}/docs-json)`,
      `  gRPC          localhost:${config.grpcPort}  (shop.orders.v1.OrderService, shop.payments.v1.PaymentService; reflection on)`,
      `  Bull Board    ${base}/admin/queues   (HTTP Basic: ${adminLogin(config)})`,
      `  Health        ${base}/health/ready   Metrics ${base}/metrics`,
      `  Mail inbox    ${mailWeb}`,
      'Ctrl-C stops everything this command started.',
      '',
    ].join('\n'),
  );
}

// Installed before anything starts: a Ctrl-C during the infrastructure's first start (datadir
// initialisation takes seconds) or the migrations still stops what was started.
// `void stop(...)`: stop() catches its own failures and ends the process; nothing awaits a signal.
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0)); // as above
main().catch((err: Error) => {
  if (!run.stopping) console.error(err.message);
  void stop(1); // as above
});
