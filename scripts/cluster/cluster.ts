/**
 * A local cluster: N api instances (APP_ROLE=api, each on its own HTTP and gRPC port), one
 * worker (APP_ROLE=worker) and nginx in front (scripts/infra/nginx.ts), all sharing the
 * database and Redis named in `env`. Used by `npm run up:cluster` and test/cluster.
 *
 * Every instance gets `--nc-cluster=<dir>` on its command line, so a later start with the same
 * folder finds (through /proc) and stops instances that a crashed launcher left behind.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NginxInstance, startNginx } from '../infra/nginx';
import { portOpen } from '../infra/local-infra';
import { freePort } from '../lib/net';
import { AppProcess, AppRuntime } from './app-process';

export interface ClusterOptions {
  /** api instances behind nginx (at least 1) */
  instances: number;
  /** State folder: nginx prefix, instance logs. */
  dir: string;
  /** Environment of every instance (database, Redis, secrets...). */
  env: NodeJS.ProcessEnv;
  host?: string;
  /** nginx HTTP / gRPC ports; 0 = any free port */
  httpPort?: number;
  grpcPort?: number;
  /** First api HTTP / gRPC port (instance i uses first + i); 0 = free ports */
  apiPort?: number;
  apiGrpcPort?: number;
  /** The worker's HTTP port (health and metrics only); 0 = a free port */
  workerPort?: number;
  runtime?: AppRuntime;
  /** Instance output: each line to this callback, else to `<dir>/logs/<name>.log`. */
  onLine?: (name: string, line: string) => void;
  log?: (line: string) => void;
  readyTimeoutMs?: number;
}

export interface Cluster {
  nginx: NginxInstance;
  apis: AppProcess[];
  worker: AppProcess;
  /** nginx HTTP, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** nginx gRPC host:port */
  grpcAddress: string;
  dir: string;
  /** nginx first (in-flight requests finish), then every instance with SIGTERM (they drain). */
  stop: () => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Ports for each group: `first + i` when a first port is given, else free ports, all distinct. */
async function pickPorts(groups: { first?: number; count: number }[]): Promise<number[][]> {
  const used = new Set<number>(
    groups.flatMap((g) => (g.first ? [...Array(g.count).keys()].map((i) => g.first! + i) : [])),
  );
  const out: number[][] = [];
  for (const g of groups) {
    if (g.first) {
      out.push(Array.from({ length: g.count }, (_, i) => g.first! + i));
      continue;
    }
    const ports: number[] = [];
    while (ports.length < g.count) {
      const p = await freePort();
      if (!used.has(p)) {
        used.add(p);
        ports.push(p);
      }
    }
    out.push(ports);
  }
  return out;
}

/** Instances of an earlier run with this folder still alive (a launcher killed with SIGKILL). */
export function leftoverInstances(marker: string): number[] {
  if (!fs.existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(marker))
        pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

async function stopLeftovers(marker: string, log: (l: string) => void): Promise<void> {
  const pids = leftoverInstances(marker);
  if (!pids.length) return;
  log(`stopping ${pids.length} instance(s) left by an earlier run: pid ${pids.join(', ')}`);
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* exited meanwhile */
    }
  };
  pids.forEach((p) => signal(p, 'SIGTERM'));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && leftoverInstances(marker).length) await sleep(200);
  leftoverInstances(marker).forEach((p) => signal(p, 'SIGKILL'));
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  if (!Number.isInteger(opts.instances) || opts.instances < 1)
    throw new Error(`instances must be a positive integer (got ${opts.instances})`);
  const log = opts.log ?? (() => undefined);
  const host = opts.host ?? '127.0.0.1';
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const marker = `--nc-cluster=${dir}`;
  await stopLeftovers(marker, log);

  const n = opts.instances;
  const [apiPorts, apiGrpcPorts, [workerPort], [httpPort], [grpcPort]] = await pickPorts([
    { first: opts.apiPort, count: n },
    { first: opts.apiGrpcPort, count: n },
    { first: opts.workerPort, count: 1 },
    { first: opts.httpPort, count: 1 },
    { first: opts.grpcPort, count: 1 },
  ]);
  const all = [...apiPorts, ...apiGrpcPorts, workerPort, httpPort, grpcPort];
  if (new Set(all).size !== all.length) throw new Error(`cluster ports overlap: ${all.join(', ')}`);
  const taken = (await Promise.all(all.map(async (p) => ((await portOpen(p, host)) ? p : 0)))).filter(
    Boolean,
  );
  if (taken.length) throw new Error(`ports already in use: ${taken.join(', ')} (choose others, see --help)`);

  const spawnOne = (name: string, role: 'api' | 'worker', port: number, grpc: number) =>
    new AppProcess({
      name,
      role,
      port,
      grpcPort: grpc,
      env: opts.env,
      runtime: opts.runtime,
      marker,
      onLine: opts.onLine && ((line) => opts.onLine!(name, line)),
      logFile: path.join(dir, 'logs', `${name}.log`),
    });
  const apis = apiPorts.map((p, i) => spawnOne(`api-${i + 1}`, 'api', p, apiGrpcPorts[i]));
  const worker = spawnOne('worker', 'worker', workerPort, 0);
  const instances = [...apis, worker];
  let nginx: NginxInstance | undefined;

  // Nothing outlives the launcher, even when it exits without calling stop().
  const onExit = () => {
    for (const i of instances) i.killNow();
    try {
      if (nginx?.running()) process.kill(-nginx.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (nginx) await nginx.stop();
    const graceMs = Number(opts.env.SHUTDOWN_TIMEOUT_MS ?? 15_000) + 5000;
    await Promise.all(instances.map((i) => i.stop(graceMs)));
  };

  try {
    log(
      `starting ${n} api instance(s) (HTTP ${apiPorts.join(', ')}; gRPC ${apiGrpcPorts.join(', ')}) and a worker (HTTP ${workerPort})...`,
    );
    await Promise.all(instances.map((i) => i.waitReady(opts.readyTimeoutMs)));
    nginx = await startNginx({
      prefix: path.join(dir, 'nginx'),
      host,
      httpPort,
      grpcPort,
      httpUpstreams: apiPorts.map((p) => `127.0.0.1:${p}`),
      grpcUpstreams: apiGrpcPorts.map((p) => `127.0.0.1:${p}`),
      log,
    });
    const ready = await fetch(`${nginx.httpUrl}/health/ready`);
    await ready.arrayBuffer();
    if (ready.status !== 200) throw new Error(`GET /health/ready through nginx answered ${ready.status}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nginx, apis, worker, httpUrl: nginx.httpUrl, grpcAddress: nginx.grpcAddress, dir, stop };
}
