/**
 * Client CPU per Redis command: the app's shared ioredis client (auto-pipelined, as
 * RedisService.client) against RespLane (decision 0030), for the cart's two commands — its
 * change script (EVALSHA) and its read (HGETALL) — with 50 commands in flight, as under load.
 *
 *   npm run infra:up                      # or REDIS_URL=redis://… of any Redis you may write to
 *   npx ts-node --transpile-only scripts/redis-client-cpu.ts
 *
 * Reports, per client and command, commands/s and µs of this process's CPU (user + system, from
 * process.cpuUsage) per command; two rounds, alternating. REDIS_CPU_COMMANDS (default 100000) per
 * measurement. The loop's own cost (an async function awaiting each reply) is in both figures.
 */
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { RespLane } from '../src/infra/redis/resp-lane';
import { resolveLocalInfra } from './infra/infra-plan';

const N = Number(process.env.REDIS_CPU_COMMANDS ?? 100_000);
const IN_FLIGHT = 50;
const SCRIPT = `local q = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') + 1
redis.call('HSET', KEYS[1], ARGV[1], q)
redis.call('EXPIRE', KEYS[1], 3600)
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, q)
table.insert(out, 1, 0)
return out`;
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

async function measure(name: string, call: (i: number) => Promise<unknown>): Promise<void> {
  let issued = 0;
  const started = Date.now();
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, i) => {
      while (issued < N) {
        issued++;
        await call(i);
      }
    }),
  );
  const cpu = process.cpuUsage(before);
  const secs = (Date.now() - started) / 1000;
  console.log(
    `${name.padEnd(28)} ${Math.round(N / secs)
      .toString()
      .padStart(7)} commands/s  ${((cpu.user + cpu.system) / N).toFixed(2).padStart(6)} µs CPU per command`,
  );
}

async function main(): Promise<void> {
  const url = process.env.REDIS_URL ?? resolveLocalInfra().endpoints.redisUrl;
  const u = new URL(url);
  const io = new Redis(url, { enableAutoPipelining: true });
  const lane = new RespLane({
    host: u.hostname,
    port: Number(u.port || 6379),
    commandTimeoutMs: 5000,
    connectTimeoutMs: 5000,
    name: 'redis-client-cpu',
  });
  await io.script('LOAD', SCRIPT);
  while (!lane.ready) await new Promise((r) => setTimeout(r, 20));
  const key = (i: number) => `redis-client-cpu:{cart:${i}}`;
  for (let round = 1; round <= 2; round++) {
    console.log(`round ${round}`);
    await measure('ioredis EVALSHA', (i) => io.evalsha(SHA, 1, key(i), 'SKU-1'));
    await measure('RespLane EVALSHA', (i) => lane.send(['EVALSHA', SHA, 1, key(i), 'SKU-1']));
    await measure('ioredis HGETALL', (i) => io.hgetall(key(i)));
    await measure('RespLane HGETALL', (i) => lane.send(['HGETALL', key(i)]));
  }
  await io.del(...Array.from({ length: IN_FLIGHT }, (_, i) => key(i)));
  lane.close();
  io.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
