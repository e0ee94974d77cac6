/**
 * Which local servers `npm run up` and the e2e global setup start, decided per component from the
 * environment (for `npm run up`: the environment plus `.env`, which is loaded first):
 *
 *  - a component whose URL is unset, or names the local infrastructure's own endpoint
 *    (127.0.0.1 / localhost on its INFRA_*_PORT, as in .env.example), is started (or reused);
 *  - a URL naming any other server means that server is used as it is, and nothing is started
 *    for that component.
 *
 * So copying .env.example to .env changes nothing, and pointing only REDIS_URL elsewhere still
 * starts the local MySQL pair and mail catcher. The replica follows the primary: a local replica
 * replicates the local primary only, so with DB_PRIMARY_URL on another server and
 * DB_REPLICA_URLS unset, reads go to that primary (DB_REPLICA_URLS is set empty).
 */
import type { Component, InfraConfig, InfraEndpoints } from './local-infra';

export interface InfraPlan {
  /** Components to start or reuse locally. */
  components: Component[];
  /** Variables to set before the app's config is read (only ones the environment leaves unset). */
  env: Record<string, string>;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** true when `url` names this machine on `port` (the local infrastructure's endpoint). */
export function namesLocalPort(url: string, port: number): boolean {
  try {
    const u = new URL(url);
    return LOCAL_HOSTS.has(u.hostname) && Number(u.port) === port;
  } catch {
    return false;
  }
}

export function planLocalInfra(
  env: NodeJS.ProcessEnv,
  ports: InfraConfig['ports'],
  endpoints: InfraEndpoints,
  opts: { mail?: boolean } = {},
): InfraPlan {
  const components: Component[] = [];
  const set: Record<string, string> = {};
  const unset = (name: string) => !env[name];

  const primaryLocal = unset('DB_PRIMARY_URL') || namesLocalPort(env.DB_PRIMARY_URL!, ports.primary);
  if (primaryLocal) {
    components.push('primary');
    if (unset('DB_PRIMARY_URL')) set.DB_PRIMARY_URL = endpoints.primaryUrl;
    if (env.DB_REPLICA_URLS === undefined) {
      components.push('replica');
      set.DB_REPLICA_URLS = endpoints.replicaUrls.join(',');
    } else if (env.DB_REPLICA_URLS.split(',').some((u) => namesLocalPort(u.trim(), ports.replica))) {
      components.push('replica');
    }
  } else if (env.DB_REPLICA_URLS === undefined) {
    // The dev default replica is a copy of the local primary, not of the server named.
    set.DB_REPLICA_URLS = '';
  }

  if (unset('REDIS_URL') || namesLocalPort(env.REDIS_URL!, ports.redis)) {
    components.push('redis');
    if (unset('REDIS_URL')) set.REDIS_URL = endpoints.redisUrl;
  }

  if (opts.mail !== false && (unset('SMTP_URL') || namesLocalPort(env.SMTP_URL!, ports.smtp))) {
    components.push('mail');
    if (unset('SMTP_URL')) set.SMTP_URL = endpoints.smtpUrl;
  }
  return { components, env: set };
}
