/**
 * `npm run up:cluster [-- --instances N ...]`: the system as a cluster on this machine.
 * local infrastructure (unless env points at servers) → migrations → N api instances
 * (APP_ROLE=api, default 2) + 1 worker (APP_ROLE=worker) → nginx in front (round-robin HTTP with
 * passive failover, gRPC through grpc_pass) → prints the URLs. Ctrl-C stops everything it started.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { appConfig } from '../src/infra/config/app-config';
import { adminLogin } from './lib/banner';
import { resolveLocalInfra } from './infra/infra-plan';
import { Component, infraDown, infraUp, ROOT } from './infra/local-infra';
import { AppRuntime } from './cluster/app-process';
import { Cluster, startCluster } from './cluster/cluster';

interface Args {
  instances: number;
  httpPort: number;
  grpcPort: number;
  apiPort: number;
  apiGrpcPort: number;
  workerPort: number;
  runtime: AppRuntime;
}

const USAGE = `usage: npm run up:cluster -- [--instances 2] [--http-port 8080] [--grpc-port 50051]
                           [--api-port 3001] [--api-grpc-port 50061] [--worker-port 3099] [--build]
  --instances      api instances behind nginx (each on api-port + i and api-grpc-port + i)
  --http-port      nginx HTTP port (REST, docs, health)      --grpc-port  nginx gRPC port (h2c)
  --build          run \`npm run build\` and start dist/main.js (default: the sources via ts-node)`;

function parseArgs(argv: string[]): Args {
  const a: Args = {
    instances: 2,
    httpPort: 8080,
    grpcPort: 50051,
    apiPort: 3001,
    apiGrpcPort: 50061,
    workerPort: 3099,
    runtime: 'ts',
  };
  const names: Record<string, keyof Args> = {
    instances: 'instances',
    'http-port': 'httpPort',
    'grpc-port': 'grpcPort',
    'api-port': 'apiPort',
    'api-grpc-port': 'apiGrpcPort',
    'worker-port': 'workerPort',
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].replace(/^--/, '').split('=', 2);
    if (flag === 'help' || flag === 'h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (flag === 'build') {
      a.runtime = 'dist';
      continue;
    }
    const key = names[flag];
    if (!key) throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    const v = Number(inline ?? argv[++i]);
    const max = key === 'instances' ? 32 : 65535;
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new Error(`--${flag} needs an integer between 1 and ${max}`);
    (a as unknown as Record<string, number>)[key] = v;
  }
  return a;
}

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`npm run build exited with ${code}`)),
    );
    child.once('error', reject);
  });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (l: string) => console.log(`  ${l}`);
  /** Components whose server this run spawned (announced before the spawn, so none escapes). */
  const started = new Set<Component>();
  const abort = new AbortController();
  let infraStarting: Promise<unknown> | undefined;
  let cluster: Cluster | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping (nginx, then every instance drains)...');
    abort.abort(); // infraUp spawns nothing more and stops waiting
    try {
      if (cluster) await cluster.stop();
    } catch (err) {
      console.error(`  could not stop the cluster cleanly: ${(err as Error).message}`);
      code ||= 1;
    }
    await infraStarting?.catch(() => undefined);
    if (started.size)
      await infraDown({ only: [...started], log }).catch((err: Error) => {
        console.error(`  could not stop ${[...started].join(', ')}: ${err.message}`);
        code ||= 1;
      });
    process.exit(code);
  };
  // Before anything starts: a Ctrl-C in any phase stops what this run started.
  // `void stop(...)` here and below: stop() catches its own failures and ends the process.
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0)); // as above

  // The same per-component decision as `npm run up` (scripts/infra/infra-plan.ts): a URL left
  // unset or naming the local infrastructure's own endpoint starts (or reuses) it.
  const plan = resolveLocalInfra({ dotenv: 'all' });
  // A local cluster on the local infrastructure: development unless NODE_ENV (or .env) says
  // otherwise (the app itself defaults to production and would refuse the development secrets).
  process.env.NODE_ENV ??= 'development';
  let mailWeb = '(SMTP_URL names your mail server)';
  if (plan.components.length) {
    console.log(`starting local infrastructure (${plan.components.join(', ')})...`);
    try {
      infraStarting = infraUp({
        only: plan.components,
        log,
        signal: abort.signal,
        onStart: (c) => started.add(c),
      });
      const res = (await infraStarting) as Awaited<ReturnType<typeof infraUp>>;
      if (plan.components.includes('mail')) mailWeb = res.endpoints.mailWebUrl;
    } catch (err) {
      if (!stopping) console.error((err as Error).message);
      return stop(1);
    }
  }
  if (stopping) return;
  Object.assign(process.env, plan.env);
  process.env.SEED_DEMO_DATA ??= 'true';
  // nginx replaces X-Forwarded-For with the peer address: the instances may trust it.
  process.env.TRUST_PROXY ??= 'true';
  const config = appConfig();

  const width = `api-${args.instances}`.length;
  try {
    console.log('applying migrations...');
    const { runMigrations } = await import('../src/infra/database/migrate');
    await runMigrations(config.db.primary, log);
    if (args.runtime === 'dist') await build();
    cluster = await startCluster({
      instances: args.instances,
      dir: path.join(ROOT, '.local', 'cluster'),
      env: process.env,
      httpPort: args.httpPort,
      grpcPort: args.grpcPort,
      apiPort: args.apiPort,
      apiGrpcPort: args.apiGrpcPort,
      workerPort: args.workerPort,
      runtime: args.runtime,
      onLine: (name, line) => console.log(`[${name.padEnd(width)}] ${line}`),
      log,
    });
  } catch (err) {
    // startCluster already stopped what it had started; the infrastructure is ours to stop
    console.error((err as Error).message);
    return stop(1);
  }
  if (stopping) return;
  const c = cluster;
  for (const i of [...c.apis, c.worker])
    // `exited` only resolves (the process's exit): a watch for the rest of the run.
    void i.exited.then((e) => {
      if (stopping) return;
      console.error(
        `${i.name} (pid ${i.pid}) exited (${e.signal ?? `code ${e.code}`})` +
          (i.role === 'api' && c.apis.some((a) => a.running) ? '; nginx routes around it' : ''),
      );
      if (!c.apis.some((a) => a.running)) void stop(1); // stop() catches its failures, then exits
    });

  const base = c.httpUrl;
  console.log(
    [
      '',
      `nest-commerce cluster is up: ${c.apis.length} api instance(s) + 1 worker behind nginx ${c.nginx.binary.version}`,
      `  REST API      ${base}/api/v1`,
      `  Swagger UI    ${base}/docs   (OpenAPI: ${base}/docs-json)`,
      `  gRPC          ${c.grpcAddress}  (grpc_pass to every api instance; reflection on)`,
      `  Bull Board    ${base}/admin/queues   (HTTP Basic: ${adminLogin(config)})`,
      `  Health        ${base}/health/ready   (balancer: ${base}/nginx-health)`,
      ...c.apis.map(
        (a) =>
          `  ${a.name.padEnd(12)}  ${a.url}  gRPC 127.0.0.1:${a.grpcPort}  pid ${a.pid}  (metrics: ${a.url}/metrics)`,
      ),
      `  ${'worker'.padEnd(12)}  ${c.worker.url}  (health and metrics only)  pid ${c.worker.pid}`,
      `  nginx logs    ${c.nginx.paths.accessLog}`,
      `  Mail inbox    ${mailWeb}`,
      `Try failover: kill -9 ${c.apis[0].pid}   (requests keep flowing through ${base})`,
      'Ctrl-C stops everything this command started.',
      '',
    ].join('\n'),
  );
  // Only resolves (nginx's exit): watches for the rest of the run.
  void c.nginx.exited.then(() => {
    if (stopping) return;
    console.error(`nginx exited; see ${c.nginx.paths.errorLog}`);
    void stop(1); // stop() catches its failures, then exits
  });
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
