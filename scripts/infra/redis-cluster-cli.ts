/**
 * `npm run infra:redis-cluster`: a private Redis Cluster of 3 masters + 3 replicas on this machine,
 * in the foreground — the same redis-server binary as the single Redis, AOF on, `noeviction`,
 * ports INFRA_REDIS_CLUSTER_PORT … +5 (default 7101–7106), data in a temporary directory that is
 * deleted when it stops. It prints the REDIS_URL to give the app (`redis+cluster://…`, every node
 * a seed); Ctrl-C (SIGINT/SIGTERM) stops every node. Decision 0025.
 */
import { createServer } from 'node:net';
import { resolveLocalInfra } from './infra-plan';
import { LocalRedisCluster } from './redis-cluster';

async function main(): Promise<void> {
  resolveLocalInfra(); // INFRA_* from .env, as every other command reads them
  const raw = process.env.INFRA_REDIS_CLUSTER_PORT ?? '7101';
  const base = Number(raw);
  if (!Number.isInteger(base) || base < 1024 || base + 5 + 10000 > 65535)
    throw new Error(
      `INFRA_REDIS_CLUSTER_PORT=${raw}: a port from 1024 to 55530 (the cluster bus uses port + 10000)`,
    );
  const ports = Array.from({ length: 6 }, (_, i) => base + i);
  for (const port of ports.flatMap((p) => [p, p + 10000]))
    if (!(await portFree(port)))
      throw new Error(
        `port ${port} is in use (INFRA_REDIS_CLUSTER_PORT moves the cluster's six ports and their bus ports)`,
      );
  console.log(`starting a Redis Cluster of 3 masters + 3 replicas on ports ${ports[0]}–${ports[5]} …`);
  const cluster = await LocalRedisCluster.start(3, 1, 5000, ports);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the cluster`);
    cluster.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (const m of await cluster.masters())
    console.log(`  master 127.0.0.1:${m.port} slots ${m.slots.map(([a, b]) => `${a}-${b}`).join(',')}`);
  console.log(`\nREDIS_URL=${cluster.url}\n(Ctrl-C stops it)`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

main().catch((err: Error) => {
  console.error(`infra:redis-cluster: ${err.message}`);
  process.exit(1);
});
