import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { freePort } from '../lib/net';

const run = promisify(execFile);

export interface ClusterNodeInfo {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** The master's id for a replica. */
  masterId?: string;
  /** Slot ranges a master serves, e.g. [[0, 5460]]. */
  slots: [number, number][];
  failed: boolean;
}

/**
 * A real Redis Cluster of private redis-servers for the tests: `masters` masters with `replicas`
 * replicas each (same redis-server binary, free ports, AOF on, noeviction), created with
 * `redis-cli --cluster create`. `cluster-require-full-coverage no`: while one master is down,
 * the slots of the others keep answering (what a shop running several sales wants).
 * A short node timeout keeps an automatic failover after a killed master within a few seconds.
 * Used by `npm run infra:redis-cluster`, the e2e suites (test/support/redis-cluster.ts) and the
 * bench's cluster scenario.
 */
export class LocalRedisCluster {
  readonly procs = new Map<number, ChildProcess>();
  private constructor(
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  /** `ports`: the nodes' ports (masters × (1 + replicas) of them); free ports when not given. */
  static async start(
    masters = 3,
    replicas = 1,
    nodeTimeoutMs = 2000,
    fixedPorts?: number[],
  ): Promise<LocalRedisCluster> {
    const n = masters * (1 + replicas);
    if (fixedPorts && fixedPorts.length !== n) throw new Error(`a cluster of ${n} nodes needs ${n} ports`);
    const ports: number[] = fixedPorts ? [...fixedPorts] : [];
    while (ports.length < n) {
      const p = await freePort();
      if (!ports.includes(p) && p + 10000 <= 65535) ports.push(p);
    }
    const c = new LocalRedisCluster(ports, mkdtempSync(join(tmpdir(), 'nc-redis-cluster-')));
    try {
      for (const port of ports) c.spawnNode(port, nodeTimeoutMs);
      await Promise.all(ports.map((p) => waitPing(p)));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
      await c.waitHealthy(masters, replicas);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  private spawnNode(port: number, nodeTimeoutMs: number): void {
    // prettier-ignore
    const proc = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      '--cluster-node-timeout', String(nodeTimeoutMs), '--cluster-require-full-coverage', 'no',
      '--appendonly', 'yes', '--appendfilename', `aof-${port}.aof`, '--appenddirname', `aof-${port}`,
      '--maxmemory-policy', 'noeviction',
    ], { stdio: 'ignore' });
    this.procs.set(port, proc);
  }

  /**
   * `redis+cluster://` naming every node as a seed, as an operator would: ioredis reconnects
   * through the seeds only, and a killed node may be one of them.
   */
  get url(): string {
    return `redis+cluster://${this.ports.map((p) => `127.0.0.1:${p}`).join(',')}`;
  }

  /** A plain connection to one node (no cluster redirections). */
  node(port: number): Redis {
    const r = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // A node still starting or killed: connect() rejects, which is enough.
    r.on('error', () => undefined);
    return r;
  }

  async onNode<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = this.node(port);
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  /** CLUSTER NODES as seen by a live node. */
  async topology(): Promise<ClusterNodeInfo[]> {
    let lastErr: unknown;
    for (const port of this.ports) {
      if (this.procs.get(port)?.exitCode !== null || this.procs.get(port)?.killed) continue;
      try {
        const text = (await this.onNode(port, (r) => r.cluster('NODES'))) as string;
        return text
          .trim()
          .split('\n')
          .map((line) => {
            const f = line.split(' ');
            const nodePort = Number(/:(\d+)@/.exec(f[1])![1]);
            return {
              port: nodePort,
              id: f[0],
              role: f[2].includes('master') ? 'master' : 'replica',
              masterId: f[3] === '-' ? undefined : f[3],
              failed: f[2].split(',').some((x) => x === 'fail' || x === 'fail?') || f[7] === 'disconnected',
              slots: f
                .slice(8)
                .filter((s) => /^\d/.test(s))
                .map((s) => {
                  const [a, b] = s.split('-').map(Number);
                  return [a, b ?? a] as [number, number];
                }),
            } as ClusterNodeInfo;
          });
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr ?? new Error('no live cluster node');
  }

  /** Live masters serving slots, by port. */
  async masters(): Promise<ClusterNodeInfo[]> {
    return (await this.topology()).filter((n) => n.role === 'master' && !n.failed && n.slots.length);
  }

  /** A replica of the master on `port` that is in sync with it. */
  async replicaOf(port: number): Promise<ClusterNodeInfo> {
    const all = await this.topology();
    const master = all.find((n) => n.port === port)!;
    const replica = all.find((n) => n.role === 'replica' && n.masterId === master.id && !n.failed);
    if (!replica) throw new Error(`master ${port} has no live replica`);
    return replica;
  }

  /** Every node reports cluster_state:ok and every master has its replicas attached and in sync. */
  async waitHealthy(masters: number, replicas: number, timeoutMs = 30_000): Promise<void> {
    await eventually(
      async () => {
        const live = this.ports.filter(
          (p) => this.procs.get(p)?.exitCode === null && !this.procs.get(p)?.killed,
        );
        for (const port of live) {
          const info = await this.onNode(port, (r) => r.cluster('INFO') as Promise<string>).catch(() => '');
          if (!info.includes('cluster_state:ok')) return undefined;
        }
        const ms = await this.masters();
        if (ms.length !== masters) return undefined;
        for (const m of ms) {
          const repl = await this.onNode(m.port, (r) => r.info('replication')).catch(() => '');
          const online = (repl.match(/^slave\d+:.*state=online/gm) ?? []).length;
          if (online < replicas) return undefined;
        }
        return true;
      },
      timeoutMs,
      200,
    );
  }

  /** Which live master serves `slot`. */
  async masterOfSlot(slot: number): Promise<ClusterNodeInfo> {
    const m = (await this.masters()).find((n) => n.slots.some(([a, b]) => slot >= a && slot <= b));
    if (!m) throw new Error(`no master serves slot ${slot}`);
    return m;
  }

  async keyslot(key: string): Promise<number> {
    return (await this.onNode(this.ports[0], (r) => r.cluster('KEYSLOT', key))) as number;
  }

  /** DBSIZE of every live master, by port. */
  async keysPerMaster(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const m of await this.masters()) out.set(m.port, await this.onNode(m.port, (r) => r.dbsize()));
    return out;
  }

  /** Kills one node (SIGKILL: no shutdown, no last AOF write). */
  kill(port: number): void {
    this.procs.get(port)?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    for (const p of this.procs.values()) p.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `fn` until it returns a truthy value (self-contained: the bench uses this file too). */
async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

async function waitPing(port: number): Promise<void> {
  await eventually(async () => {
    const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => undefined); // not listening yet: connect() rejects, which is enough
    try {
      await r.connect();
      return (await r.ping()) === 'PONG' ? true : undefined;
    } catch {
      return undefined;
    } finally {
      r.disconnect();
    }
  }, 15_000);
}
