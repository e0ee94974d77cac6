import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../scripts/lib/net';
import { PrivateRedis } from '../faults/private-redis';
import { TestApp, eventually, startApp } from '../support/test-app';
import { sellThroughFlashSale } from './support';

/**
 * REDIS_URL naming a Sentinel group (`redis+sentinel://host:port/<master>`): the app finds the
 * master through a real redis-sentinel and every Redis client of the app uses it — commands and
 * Lua (flash-sale purchase), pub/sub, the stream consumer and Bull's queues.
 */
describe('redis: REDIS_URL naming a Sentinel group', () => {
  const master = new PrivateRedis();
  let sentinel: ChildProcess | undefined;
  let sentinelPort = 0;
  let t: TestApp;

  beforeAll(async () => {
    await master.start();
    sentinelPort = await freePort();
    const conf = join(master.dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${master.dir}`,
        `sentinel monitor ncmaster 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds ncmaster 2000',
        '',
      ].join('\n'),
    );
    sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
    const probe = new Redis({ port: sentinelPort, lazyConnect: true, retryStrategy: () => 50 });
    try {
      await eventually(async () => {
        if (probe.status === 'wait') await probe.connect().catch(() => undefined);
        const addr = (await probe
          .call('SENTINEL', 'get-master-addr-by-name', 'ncmaster')
          .catch(() => null)) as string[] | null;
        return addr?.[1] === String(master.port) ? true : undefined;
      });
    } finally {
      probe.disconnect();
    }
    t = await startApp({ REDIS_URL: `redis+sentinel://127.0.0.1:${sentinelPort}/ncmaster` });
  });
  afterAll(async () => {
    await t?.close();
    sentinel?.kill('SIGKILL');
    await master.stop();
  });

  it('boots, reports Redis and every queue up, and sells through the Lua path into an order', async () => {
    const saleId = await sellThroughFlashSale(t);
    // The keys live on the master the sentinel named.
    const direct = new Redis(master.url);
    try {
      expect((await direct.keys(`${t.config.redis.prefix}:*fs:${saleId}*`)).length).toBeGreaterThan(0);
      expect((await direct.keys(`${t.config.redis.prefix}:bull:*`)).length).toBeGreaterThan(0);
    } finally {
      direct.disconnect();
    }
  });
});
