/**
 * `npm run test:e2e:cluster [-- <jest args>]`: the flash-sale, orders, catalog-cache, cart,
 * throttling and queue suites (or the suites named) against a private Redis Cluster of 3 masters + 3 replicas (test/support/redis-cluster.ts,
 * AOF on, its own free ports): REDIS_URL names the cluster, everything else is as in `npm test`.
 * Not part of `npm test` (it would add minutes); test/redis/redis-cluster.e2e-spec.ts is, and covers
 * the same paths on the cluster in one app. Decision 0025.
 */
import { spawn } from 'node:child_process';
import { TestRedisCluster } from '../test/support/redis-cluster';

/** Suites that reach Redis only through the app (or a topology-aware client). Those that proxy
 * a single Redis to cut it off (FaultProxy) or list keys with KEYS are single-Redis suites. */
const DEFAULT_SUITES = [
  'test/flash-sale/flash-sale.e2e-spec.ts',
  'test/flash-sale/flash-sale-scripts.e2e-spec.ts',
  'test/flash-sale/unknown-sale.e2e-spec.ts',
  'test/orders/orders.e2e-spec.ts',
  'test/catalog/catalog.e2e-spec.ts',
  'test/catalog/catalog-fence.e2e-spec.ts',
  'test/commerce/cart.e2e-spec.ts',
  'test/users/throttling.e2e-spec.ts',
  'test/users/queue-board.e2e-spec.ts',
];

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const cluster = await TestRedisCluster.start(3, 1);
  console.log(`redis cluster: ${cluster.url}`);
  try {
    return await new Promise<number>((resolve) => {
      const jest = spawn(
        process.execPath,
        [
          require.resolve('jest/bin/jest'),
          '--selectProjects',
          'e2e',
          '--runInBand',
          '--forceExit',
          ...(args.length ? args : DEFAULT_SUITES),
        ],
        { stdio: 'inherit', env: { ...process.env, REDIS_URL: cluster.url } },
      );
      jest.on('exit', (code) => resolve(code ?? 1));
    });
  } finally {
    await cluster.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
