import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { freePort } from '../../scripts/lib/net';
import { TestApp, eventually, startApp } from '../support/test-app';
import { sellThroughFlashSale } from './support';

const run = promisify(execFile);

/**
 * REDIS_URL naming a Redis Cluster (`redis+cluster://seed1,seed2`): a real 3-master cluster of
 * private redis-servers (created with `redis-cli --cluster create`); the app's clients are
 * slot-aware and REDIS_PREFIX carries the hash tag that keeps keys used together in one slot.
 */
describe('redis: REDIS_URL naming a Redis Cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nc-redis-cluster-'));
  const nodes: ChildProcess[] = [];
  let ports: number[] = [];
  let t: TestApp;

  beforeAll(async () => {
    ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) {
      // prettier-ignore
      nodes.push(spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
        '--cluster-node-timeout', '3000', '--appendonly', 'yes', '--appendfilename', `aof-${port}.aof`,
        '--appenddirname', `aof-${port}`, '--maxmemory-policy', 'noeviction', '--save', '',
      ], { stdio: 'ignore' }));
    }
    for (const port of ports)
      await eventually(async () => {
        const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
        try {
          await r.connect();
          return (await r.ping()) === 'PONG' ? true : undefined;
        } catch {
          return undefined;
        } finally {
          r.disconnect();
        }
      });
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await eventually(
      async () => {
        for (const port of ports) {
          const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
          try {
            await r.connect();
            if (!String(await r.cluster('INFO')).includes('cluster_state:ok')) return undefined;
          } finally {
            r.disconnect();
          }
        }
        return true;
      },
      20_000,
      200,
    );
    t = await startApp({
      REDIS_URL: `redis+cluster://127.0.0.1:${ports[0]},127.0.0.1:${ports[1]}`,
      REDIS_PREFIX: `{nct${Date.now().toString(36)}}`,
    });
  });
  afterAll(async () => {
    await t?.close();
    for (const n of nodes) n.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('boots, reports Redis and every queue up, and sells through the Lua path into an order', async () => {
    const saleId = await sellThroughFlashSale(t);
    // The sale's keys and Bull's are all in the slot of the prefix's hash tag, on one master.
    const probe = new Cluster([{ host: '127.0.0.1', port: ports[0] }]);
    try {
      const slot = (await probe.cluster('KEYSLOT', t.config.redis.prefix)) as number;
      // GETKEYSINSLOT answers for the node it is sent to: ask every master.
      await eventually(async () => (probe.nodes('master').length === ports.length ? true : undefined));
      const keys = (
        await Promise.all(
          probe.nodes('master').map((n) => n.cluster('GETKEYSINSLOT', slot, 1000) as Promise<string[]>),
        )
      ).flat();
      expect(keys.some((k) => k.includes(`fs:${saleId}`))).toBe(true);
      expect(keys.some((k) => k.includes(':bull:'))).toBe(true);
    } finally {
      probe.disconnect();
    }
  });

  it('refuses to boot on a cluster with a prefix that has no hash tag, naming the variable', async () => {
    await expect(
      startApp({ REDIS_URL: `redis+cluster://127.0.0.1:${ports[0]}`, REDIS_PREFIX: 'plain' }),
    ).rejects.toThrow(/REDIS_PREFIX/);
  });
});
