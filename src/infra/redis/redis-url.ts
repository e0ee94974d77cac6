import type { ClusterNode, RedisOptions } from 'ioredis';

/** Seed nodes of a Redis Cluster (`redis+cluster://`), or undefined for any other URL. */
export function clusterNodesFromUrl(
  raw: string,
): { nodes: ClusterNode[]; options: RedisOptions } | undefined {
  if (!raw.startsWith('redis+cluster://')) return undefined;
  const m = /^redis\+cluster:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/?$/.exec(raw);
  if (!m) throw new Error('expected redis+cluster://[:password@]host:port[,host:port...]');
  const [, user, password, hosts] = m;
  return {
    nodes: hosts.split(',').map((hp) => hostPort(hp, 6379)),
    options: {
      ...(user ? { username: decodeURIComponent(user) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
    },
  };
}

function hostPort(hp: string, defaultPort: number): { host: string; port: number } {
  const hm = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(hp.trim());
  if (!hm) throw new Error(`bad address "${hp}"`);
  return { host: hm[1], port: hm[2] ? Number(hm[2]) : defaultPort };
}

/**
 * Connection options from a Redis URL:
 * - `redis://[[user]:password@]host:port[/db]` and `rediss://…` (TLS): one server;
 * - `redis+cluster://[[user]:password@]host1:port,host2:port`: a Redis Cluster (seed nodes; see
 *   {@link clusterNodesFromUrl} — this function then returns the per-node options only);
 * - `redis+sentinel://[[user]:password@]host1:26379,host2:26379/<master-name>[/db]`: a Sentinel
 *   group. ioredis asks the sentinels for the current master of `<master-name>` and follows a
 *   failover (reconnects to the promoted replica). The password is the master's; sentinels are
 *   assumed open on their port (set `sentinelPassword` here if yours need one).
 * Throws with a message naming what is wrong.
 */
export function redisOptionsFromUrl(raw: string): RedisOptions {
  const cluster = clusterNodesFromUrl(raw);
  if (cluster) return cluster.options;
  if (raw.startsWith('redis+sentinel://')) {
    const m = /^redis\+sentinel:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/@]+)\/([^/?#]+)(?:\/(\d+))?\/?$/.exec(
      raw,
    );
    if (!m)
      throw new Error('expected redis+sentinel://[:password@]host:port[,host:port...]/<master-name>[/db]');
    const [, user, password, hosts, name, db] = m;
    const sentinels = hosts.split(',').map((hp) => hostPort(hp, 26379));
    return {
      sentinels,
      name: decodeURIComponent(name),
      ...(user ? { username: decodeURIComponent(user) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
      ...(db ? { db: Number(db) } : {}),
    };
  }
  const u = new URL(raw);
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error('expected redis://, rediss://, redis+sentinel:// or redis+cluster://');
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new Error(`bad database number "${db}"`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
