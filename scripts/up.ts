/**
 * `npm run up`: the whole system on this machine.
 * local infrastructure (unless env points at servers) → migrations → the app with APP_ROLE=all
 * and idempotent demo data → prints the URLs. Ctrl-C stops the app and whatever this run started.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { appConfig, loadDotEnv } from '../src/infra/config/app-config';
import { infraDown, infraUp } from './infra/local-infra';

async function main(): Promise<void> {
  loadDotEnv();
  const started: string[] = [];
  let mailWeb = '(SMTP_URL given: your mail server)';
  if (!process.env.DB_PRIMARY_URL) {
    console.log('starting local infrastructure (MySQL primary + replica, Redis, mail catcher)...');
    const res = await infraUp({ log: (l) => console.log(`  ${l}`) });
    started.push(...res.started);
    process.env.DB_PRIMARY_URL = res.endpoints.primaryUrl;
    process.env.DB_REPLICA_URLS ??= res.endpoints.replicaUrls.join(',');
    process.env.REDIS_URL ??= res.endpoints.redisUrl;
    process.env.SMTP_URL ??= res.endpoints.smtpUrl;
    mailWeb = res.endpoints.mailWebUrl;
  }
  process.env.APP_ROLE = 'all';
  process.env.SEED_DEMO_DATA ??= 'true';
  const config = appConfig();

  console.log('applying migrations...');
  const { runMigrations } = await import('../src/infra/database/migrate');
  await runMigrations(config.db.primary, (l) => console.log(`  ${l}`));

  // The app runs in a child process so Ctrl-C can drain it before the servers stop.
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'src', 'main.ts')],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
    },
  );
  const base = `http://localhost:${config.port}`;
  const waitReady = async () => {
    for (let i = 0; i < 240; i++) {
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
  void waitReady().then((ok) => {
    if (!ok) return console.error('the app did not become ready; see the log above');
    console.log(
      [
        '',
        'nest-commerce is up:',
        `  REST API      ${base}/api/v1`,
        `  Swagger UI    ${base}/docs   (OpenAPI: ${base}/docs-json)`,
        `  gRPC          localhost:${config.grpcPort}  (shop.orders.v1.OrderService; reflection on)`,
        `  Bull Board    ${base}/admin/queues   (admin: ${config.admin.email})`,
        `  Health        ${base}/health/ready   Metrics ${base}/metrics`,
        `  Mail inbox    ${mailWeb}`,
        'Ctrl-C stops everything this command started.',
        '',
      ].join('\n'),
    );
  });

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping...');
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (started.length) await infraDown({ only: started, log: (l) => console.log(`  ${l}`) });
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  child.on('exit', (code) => void stop(code ?? 1));
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
