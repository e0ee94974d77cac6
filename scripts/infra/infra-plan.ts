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
 *
 * {@link resolveLocalInfra} is the one resolver every command that talks to the local
 * infrastructure uses (`npm run up`, `up:cluster`, `seed`, `migration:run`, `bench`, `soak`,
 * `infra:*`, the e2e setup): `.env` first, then the INFRA_* ports, then this plan. So a port moved
 * with INFRA_MYSQL_PRIMARY_PORT moves for all of them at once.
 */
import { loadDotEnv } from '../../src/infra/config/app-config';
import {
  type Component,
  type InfraConfig,
  type InfraEndpoints,
  PORT_VARS,
  infraConfig,
  infraEndpoints,
} from './local-infra';

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

export interface LocalInfra extends InfraPlan {
  config: InfraConfig;
  endpoints: InfraEndpoints;
  /** The servers the command talks to: the environment's URLs, else the local infrastructure's. */
  urls: { primary: string; replicas: string[]; redis: string; smtp: string };
}

/** What the resolver reads, from the environment or else `.env`. */
export const RESOLVER_VARIABLES = [
  'INFRA_LOCAL_DIR',
  'INFRA_ENGINE',
  'INFRA_REPLICA_SOURCE_PORT',
  'INFRA_SEMI_SYNC_TIMEOUT_MS',
  'INFRA_REDIS_CLUSTER_PORT',
  ...Object.values(PORT_VARS)
    .flat()
    .map((v) => v.name),
  'DB_PRIMARY_URL',
  'DB_REPLICA_URLS',
  'REDIS_URL',
  'SMTP_URL',
];

/**
 * The one resolver of the local infrastructure's endpoints: takes {@link RESOLVER_VARIABLES} from
 * `.env` where the environment leaves them unset (all of `.env` with `dotenv: 'all'`, as
 * `npm run up` does for the app it starts), reads the INFRA_* ports and decides per component what
 * to start (see planLocalInfra). Apply `env` to process.env before the app's config is read.
 */
export function resolveLocalInfra(opts: { mail?: boolean; dotenv?: 'all' | 'infra' } = {}): LocalInfra {
  loadDotEnv('.env', opts.dotenv === 'all' ? undefined : RESOLVER_VARIABLES);
  const config = infraConfig();
  const endpoints = infraEndpoints(config);
  const plan = planLocalInfra(process.env, config.ports, endpoints, opts);
  const merged = { ...process.env, ...plan.env };
  return {
    ...plan,
    config,
    endpoints,
    urls: {
      primary: merged.DB_PRIMARY_URL || endpoints.primaryUrl,
      replicas:
        merged.DB_REPLICA_URLS === undefined
          ? endpoints.replicaUrls
          : merged.DB_REPLICA_URLS.split(',')
              .map((u) => u.trim())
              .filter(Boolean),
      redis: merged.REDIS_URL || endpoints.redisUrl,
      smtp: merged.SMTP_URL || endpoints.smtpUrl,
    },
  };
}
