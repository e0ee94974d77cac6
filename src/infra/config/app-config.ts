/**
 * The one place that reads process.env. Everything else receives the typed, validated
 * {@link AppConfig} through DI (token `AppConfig`) or, for module-definition-time decisions
 * such as the process role, through {@link appConfig}.
 */
import { availableParallelism } from 'node:os';
import { isCountryCode } from '../../common/countries';
import { redisOptionsFromUrl } from '../redis/redis-url';
export type AppRole = 'all' | 'api' | 'worker';
export type NodeEnv = 'development' | 'test' | 'production';

export interface MysqlTarget {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** host:port, safe to show (no credentials). */
  label: string;
}

export class AppConfig {
  env!: NodeEnv;
  role!: AppRole;
  port!: number;
  grpcPort!: number;
  logLevel!: string;
  /** Per-request access log lines (pino-http). Off in benchmarks. */
  httpLog!: boolean;
  shutdownTimeoutMs!: number;
  seedDemoData!: boolean;
  http!: { corsOrigins: string[] | true; bodyLimitBytes: number; trustProxy: boolean };
  db!: {
    primary: MysqlTarget;
    replicas: MysqlTarget[];
    poolSize: number;
    /** Bound on every statement of the app's pools (0 = none). */
    queryTimeoutMs: number;
    /** Bound on the wait for a free pool connection (mysql2 pools have none of their own; 0 = none). */
    acquireTimeoutMs: number;
    replicaMaxLagSeconds: number;
    replicaCheckIntervalMs: number;
    readYourWritesMs: number;
  };
  redis!: {
    url: string;
    cacheUrl: string;
    /** REDIS_URL names a Redis Cluster: queues and cache shards get their own hash tags. */
    cluster: boolean;
    /** CACHE_REDIS_URL (or REDIS_URL when it is unset) names a Redis Cluster. */
    cacheCluster: boolean;
    prefix: string;
    /** Redis memory the cache may fill with entries whose keys come from requests (CACHE_REDIS_BUDGET_MB). */
    cacheBudgetBytes: number;
    /**
     * Bound on every non-blocking Redis command (command connection, cache, Bull producers,
     * throttler, Lua scripts, pub/sub publish); a connection silent that long is replaced.
     */
    commandTimeoutMs: number;
  };
  mail!: { smtpUrl: string; from: string; opsEmail: string };
  auth!: {
    jwtSecret: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
    /** Login attempts per email+IP per window before 429 (brute force). */
    loginMaxFailures: number;
    loginFailureWindowSeconds: number;
    /** Login attempts per client IP (any email) per window before 429; a success gives its slot back. */
    loginIpMaxAttempts: number;
    /** Wrong passwords for one account (any IP) within lockSeconds that lock it; 0 = never. */
    lockAfterFailures: number;
    lockSeconds: number;
    /** Registrations per IP (IPv6: per /56) per window before 429. */
    registerRateLimit: number;
    registerRateWindowSeconds: number;
    /**
     * argon2 hashes and verifications running at once (the rest wait, see PasswordHasher):
     * PASSWORD_HASH_CONCURRENCY, 0 = half the cores (at least 1).
     */
    hashConcurrency: number;
    /** Callers allowed to wait for a hashing slot; beyond, 429 AUTH_BUSY at once. */
    hashQueueLimit: number;
    /** Longest wait for a hashing slot before 429 AUTH_BUSY. */
    hashMaxWaitMs: number;
    /** Nice value (0–19) of the child process that runs argon2 (decision 0026). */
    hashNice: number;
    /** The storefront's base URL: verification and reset links in mails point there. */
    publicWebUrl: string;
    emailVerificationTtlSeconds: number;
    passwordResetTtlSeconds: number;
    /** Password-reset requests and confirmations per IP (IPv6: per /64) per accountMailWindowSeconds. */
    passwordResetIpLimit: number;
    /** Account mails (reset links, verification resends) per account per window; more are not sent. */
    accountMailLimit: number;
    accountMailWindowSeconds: number;
  };
  payments!: {
    webhookSecret: string;
    /** The sandbox PSP (non-production): where it delivers webhooks and how it misbehaves. */
    sandbox: { webhookUrl: string; duplicatePercent: number; attempts: number; backoffMs: number };
  };
  admin!: { email: string; password: string };
  orders!: {
    paymentTtlMs: number;
    /** Denial of inventory (docs/decisions/0018): what one customer may hold unpaid, and how fast they may order. */
    limits: {
      /** Open unpaid (PENDING_PAYMENT) web orders per customer. */
      maxUnpaidOrders: number;
      /** Units of one SKU across a customer's unpaid web orders (also the most one order may take of it). */
      maxUnpaidUnitsPerSku: number;
      /** Orders one customer may place per window (REST and gRPC together), then 429 with Retry-After. */
      rateLimit: number;
      rateWindowMs: number;
      /** The caps of a customer whose email is not verified yet (at most the ones above). */
      unverified: { maxUnpaidOrders: number; maxUnpaidUnitsPerSku: number };
    };
    /** WatchOrder streams (gRPC): per user and per connection on one instance, and the idle bound. */
    watch: { maxPerUser: number; maxPerConnection: number; idleMs: number };
  };
  /** Carts, tax and checkout (docs/checkout.md). */
  catalog!: {
    /**
     * CATALOG_SEARCH: `memory` answers text searches from an in-process index kept current from
     * the primary (decision 0032); `fulltext` leaves them to MySQL FULLTEXT, which also answers
     * whatever the index cannot (before it is loaded, inStock filters).
     */
    search: 'memory' | 'fulltext';
  };
  commerce!: {
    /** ISO 3166-1 alpha-2: orders without a shipping address (items-only API orders) are taxed here. */
    shopCountry: string;
    /** Catalog and shipping prices include tax (gross; the tax is shown as included) or not (net; tax is added). */
    pricesIncludeTax: boolean;
    /** An untouched cart is dropped after this long (every change restarts the clock). */
    cartTtlSeconds: number;
  };
  flashSale!: {
    /** Reservations turned into orders per transaction by the stream consumer. */
    batchSize: number;
    /** Stream entries a dead consumer left unacknowledged this long are reclaimed (XAUTOCLAIM). */
    reclaimIdleMs: number;
    /** Purchase attempts one user may make per window (bots), on top of the per-sale limit. */
    purchaseRateLimit: number;
    purchaseRateWindowMs: number;
  };
  /** Owed jobs and events (docs/decisions/0020-no-event-dropped.md). */
  queues!: {
    /** Longest wait between two attempts of an owed job (capped exponential backoff). */
    retryMaxDelayMs: number;
    /** How often dead letters are re-driven and owed outbox events whose job is gone are published again. */
    redriveIntervalMs: number;
    /**
     * Waiting jobs per queue that its Redis memory allows (QUEUE_BACKLOG_LIMIT; a Bull job with
     * its hash and list entries is ~1–2 KB, so the default 50,000 is ~50–100 MB per queue). Past
     * it the queue is under backpressure: metric, alert, readiness detail, and its feeders hold.
     */
    backlogLimit: number;
    /** A dead letter (or an owed outbox event) older than this is given up: logged with its payload and deleted. */
    deadLetterRetentionMs: number;
    /** Handled outbox rows are deleted this long after they were handled. */
    outboxRetentionMs: number;
  };
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/**
 * Defaults point at the private servers `npm run infra:up` starts (see .env.example). They are
 * development defaults: NODE_ENV itself defaults to production (fail closed: a process started
 * without it, e.g. `node dist/main.js`, must be given its servers and secrets), so they apply
 * only where development or test is explicit (`npm run up`, the tests, a .env saying so).
 */
export const ENV_DEFAULTS: Record<string, string> = {
  NODE_ENV: 'production',
  APP_ROLE: 'all',
  PORT: '3000',
  GRPC_PORT: '50051',
  LOG_LEVEL: 'info',
  HTTP_LOG: 'true',
  DB_PRIMARY_URL: 'mysql://shop:shop@127.0.0.1:3307/shop',
  DB_REPLICA_URLS: 'mysql://shop:shop@127.0.0.1:3308/shop',
  DB_POOL_SIZE: '20',
  DB_QUERY_TIMEOUT_MS: '10000',
  DB_ACQUIRE_TIMEOUT_MS: '3000',
  DB_REPLICA_MAX_LAG_SECONDS: '5',
  DB_REPLICA_CHECK_INTERVAL_MS: '1000',
  READ_YOUR_WRITES_MS: '5000',
  REDIS_URL: 'redis://127.0.0.1:6380',
  CACHE_REDIS_URL: '',
  CACHE_REDIS_BUDGET_MB: '64',
  REDIS_PREFIX: 'nc',
  REDIS_COMMAND_TIMEOUT_MS: '2000',
  SMTP_URL: 'smtp://127.0.0.1:1025',
  MAIL_FROM: 'nest-commerce <no-reply@shop.local>',
  OPS_EMAIL: 'ops@shop.local',
  JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789',
  JWT_ACCESS_TTL_SECONDS: '900',
  JWT_REFRESH_TTL_SECONDS: '2592000',
  LOGIN_MAX_FAILURES: '5',
  LOGIN_FAILURE_WINDOW_SECONDS: '60',
  LOGIN_IP_MAX_ATTEMPTS: '50',
  LOGIN_LOCK_AFTER_FAILURES: '20',
  LOGIN_LOCK_SECONDS: '900',
  REGISTER_RATE_LIMIT: '10',
  REGISTER_RATE_WINDOW_SECONDS: '60',
  PASSWORD_HASH_CONCURRENCY: '0',
  PASSWORD_HASH_QUEUE_LIMIT: '100',
  PASSWORD_HASH_MAX_WAIT_MS: '3000',
  PASSWORD_HASH_NICE: '10',
  PUBLIC_WEB_URL: 'http://localhost:3000',
  EMAIL_VERIFICATION_TTL_SECONDS: '172800',
  PASSWORD_RESET_TTL_SECONDS: '1800',
  PASSWORD_RESET_IP_LIMIT: '10',
  ACCOUNT_MAIL_LIMIT: '3',
  ACCOUNT_MAIL_WINDOW_SECONDS: '3600',
  PAYMENT_WEBHOOK_SECRET: 'dev-only-webhook-secret-change-me',
  SANDBOX_WEBHOOK_URL: '',
  SANDBOX_DUPLICATE_PERCENT: '10',
  SANDBOX_WEBHOOK_ATTEMPTS: '8',
  SANDBOX_WEBHOOK_BACKOFF_MS: '1000',
  ADMIN_EMAIL: 'admin@shop.local',
  ADMIN_PASSWORD: 'admin-password-change-me',
  CORS_ORIGINS: '*',
  BODY_LIMIT_BYTES: '1048576',
  TRUST_PROXY: 'false',
  SHUTDOWN_TIMEOUT_MS: '15000',
  ORDER_PAYMENT_TTL_MS: '900000',
  ORDER_MAX_UNPAID_ORDERS: '5',
  ORDER_MAX_UNPAID_UNITS_PER_SKU: '50',
  ORDER_RATE_LIMIT: '10',
  ORDER_RATE_WINDOW_SECONDS: '60',
  ORDER_UNVERIFIED_MAX_UNPAID_ORDERS: '2',
  ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU: '10',
  ORDER_WATCH_MAX_PER_USER: '20',
  ORDER_WATCH_MAX_PER_CONNECTION: '10',
  ORDER_WATCH_IDLE_SECONDS: '900',
  CATALOG_SEARCH: 'memory',
  SHOP_COUNTRY: 'DE',
  PRICES_INCLUDE_TAX: 'true',
  CART_TTL_SECONDS: '1209600',
  FLASH_SALE_BATCH_SIZE: '200',
  FLASH_SALE_RECLAIM_IDLE_MS: '30000',
  FLASH_SALE_PURCHASE_RATE_LIMIT: '20',
  FLASH_SALE_PURCHASE_RATE_WINDOW_MS: '10000',
  SEED_DEMO_DATA: 'false',
  QUEUE_RETRY_MAX_DELAY_MS: '60000',
  QUEUE_REDRIVE_INTERVAL_MS: '60000',
  QUEUE_BACKLOG_LIMIT: '50000',
  DEAD_LETTER_RETENTION_HOURS: '720',
  OUTBOX_RETENTION_HOURS: '168',
};

/**
 * Variables that have no usable default in production (the defaults point at the local dev
 * servers): they must be given explicitly. DB_REPLICA_URLS may be given empty (reads on the primary).
 */
export const REQUIRED_IN_PRODUCTION = [
  'DB_PRIMARY_URL',
  'DB_REPLICA_URLS',
  'REDIS_URL',
  'SMTP_URL',
  'JWT_SECRET',
  'PAYMENT_WEBHOOK_SECRET',
  'ADMIN_PASSWORD',
  'PUBLIC_WEB_URL',
];

/** Values that stand for "put a real secret here": refused in production. */
const PLACEHOLDER =
  /change[-_. ]?(me|it)|replace[-_. ]?me|placeholder|your[-_. ]?(secret|password)|dev[-_]only|compose[-_]only|^(secret|password|changeme)$/i;

/**
 * Why `value` (a secret, or the password of a server URL) is not a production secret, if it is
 * not. The development defaults of the secrets match too (they say dev-only / change-me).
 */
export function placeholderProblem(name: string, value: string): string | undefined {
  if (!value) return undefined;
  if (PLACEHOLDER.test(value))
    // The value is not printed: it is a secret, or could be one that merely looks like a placeholder.
    return `${name}: is a placeholder or development value (e.g. CHANGE-ME, dev-only-…); set a real secret when NODE_ENV=production`;
  return undefined;
}

/** The password inside a server URL (mysql://u:pass@h, redis://:pass@h), decoded; '' when none. */
function urlPassword(raw: string): string {
  const m = /^[a-z+]+:\/\/[^:@/]*:([^@/]*)@/i.exec(raw.trim());
  if (!m) return '';
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return m[1];
  }
}

export function parseMysqlUrl(name: string, raw: string, problems: string[]): MysqlTarget | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    problems.push(`${name}: "${redact(raw)}" is not a URL (expected mysql://user:pass@host:port/db)`);
    return undefined;
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (u.protocol !== 'mysql:' || !u.hostname || !database) {
    problems.push(`${name}: "${redact(raw)}" must look like mysql://user:pass@host:port/db`);
    return undefined;
  }
  const port = u.port ? Number(u.port) : 3306;
  return {
    url: raw,
    host: u.hostname,
    port,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
    label: `${u.hostname}:${port}`,
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]*)@/, '//$1:***@');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  const nodeEnv = (env.NODE_ENV || ENV_DEFAULTS.NODE_ENV) as NodeEnv;
  if (!['development', 'test', 'production'].includes(nodeEnv)) {
    problems.push(`NODE_ENV: "${nodeEnv}" must be one of development, test, production`);
  }
  const get = (name: string): string => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (nodeEnv === 'production' && REQUIRED_IN_PRODUCTION.includes(name)) {
      problems.push(`${name}: is required when NODE_ENV=production`);
    }
    return ENV_DEFAULTS[name] ?? '';
  };
  const int = (name: string, min: number, max: number): number => {
    const raw = get(name);
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}: "${raw}" must be an integer between ${min} and ${max}`);
      return Number(ENV_DEFAULTS[name]);
    }
    return n;
  };
  const bool = (name: string): boolean => {
    const raw = get(name).toLowerCase();
    if (!['true', 'false', '1', '0', 'yes', 'no'].includes(raw)) {
      problems.push(`${name}: "${raw}" must be true or false`);
      return false;
    }
    return ['true', '1', 'yes'].includes(raw);
  };
  const oneOf = <T extends string>(name: string, values: readonly T[]): T => {
    const raw = get(name) as T;
    if (!values.includes(raw)) problems.push(`${name}: "${raw}" must be one of ${values.join(', ')}`);
    return raw;
  };
  const url = (name: string, protocols: string[]): string => {
    const raw = get(name);
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
    } catch {
      problems.push(`${name}: "${redact(raw)}" must be a URL with scheme ${protocols.join(' or ')}`);
    }
    return raw;
  };
  const secret = (name: string, minLength: number): string => {
    const raw = get(name);
    if (raw.length < minLength) problems.push(`${name}: must be at least ${minLength} characters`);
    return raw;
  };

  const role = oneOf('APP_ROLE', ['all', 'api', 'worker'] as const);
  const logLevel = oneOf('LOG_LEVEL', [
    'fatal',
    'error',
    'warn',
    'info',
    'debug',
    'trace',
    'silent',
  ] as const);
  const primary = parseMysqlUrl('DB_PRIMARY_URL', get('DB_PRIMARY_URL'), problems);
  // Set but empty is a choice (the contract's "empty replica list = reads on the primary"), not
  // a missing value: only an unset variable takes the default (or is required in production).
  const replicas = (env.DB_REPLICA_URLS !== undefined ? env.DB_REPLICA_URLS : get('DB_REPLICA_URLS'))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => parseMysqlUrl(`DB_REPLICA_URLS[${i}]`, s, problems))
    .filter((r): r is MysqlTarget => !!r);
  const redisUrlOf = (name: string): string => {
    const raw = get(name);
    try {
      redisOptionsFromUrl(raw);
    } catch (err) {
      problems.push(`${name}: "${redact(raw)}" ${(err as Error).message}`);
    }
    return raw;
  };
  const redisUrl = redisUrlOf('REDIS_URL');
  const cacheRaw = env.CACHE_REDIS_URL ? redisUrlOf('CACHE_REDIS_URL') : redisUrl;
  const prefix = get('REDIS_PREFIX');
  // Keys carry their own hash tags (one per entity: a sale, a queue, a cache shard, a throttled
  // caller; docs/decisions/0025). A tag in the prefix would come first and pull every key into
  // one slot, so a cluster of N masters would hold everything on one.
  if (
    (redisUrl.startsWith('redis+cluster://') || cacheRaw.startsWith('redis+cluster://')) &&
    /[{}]/.test(prefix)
  )
    problems.push(
      `REDIS_PREFIX: "${prefix}" must not contain braces on a Redis Cluster (a hash tag in the prefix would put every key in one slot; keys carry their own tags)`,
    );
  if (!/^[A-Za-z0-9_.:{}-]{1,64}$/.test(prefix))
    problems.push(`REDIS_PREFIX: "${prefix}" must match [A-Za-z0-9_.:{}-]{1,64}`);
  const smtpUrl = url('SMTP_URL', ['smtp:', 'smtps:']);
  const mailFrom = get('MAIL_FROM');
  if (!/@/.test(mailFrom)) problems.push(`MAIL_FROM: "${mailFrom}" must contain an email address`);
  const adminEmail = get('ADMIN_EMAIL');
  if (!/^[^@\s]+@[^@\s]+$/.test(adminEmail))
    problems.push(`ADMIN_EMAIL: "${adminEmail}" is not an email address`);
  const cors = get('CORS_ORIGINS').trim();
  const shopCountry = get('SHOP_COUNTRY');
  if (!isCountryCode(shopCountry))
    problems.push(`SHOP_COUNTRY: "${shopCountry}" must be an ISO 3166-1 alpha-2 code (e.g. DE, FR, US)`);

  const cfg: AppConfig = Object.assign(new AppConfig(), {
    env: nodeEnv,
    role,
    port: int('PORT', 0, 65535),
    grpcPort: int('GRPC_PORT', 0, 65535),
    logLevel,
    httpLog: bool('HTTP_LOG'),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 1000, 600000),
    seedDemoData: bool('SEED_DEMO_DATA'),
    http: {
      corsOrigins:
        cors === '*'
          ? true
          : cors
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
      bodyLimitBytes: int('BODY_LIMIT_BYTES', 1024, 50 * 1024 * 1024),
      trustProxy: bool('TRUST_PROXY'),
    },
    db: {
      primary: primary as MysqlTarget,
      replicas,
      poolSize: int('DB_POOL_SIZE', 1, 1000),
      queryTimeoutMs: int('DB_QUERY_TIMEOUT_MS', 0, 600000),
      acquireTimeoutMs: int('DB_ACQUIRE_TIMEOUT_MS', 0, 600000),
      replicaMaxLagSeconds: int('DB_REPLICA_MAX_LAG_SECONDS', 0, 3600),
      replicaCheckIntervalMs: int('DB_REPLICA_CHECK_INTERVAL_MS', 100, 600000),
      readYourWritesMs: int('READ_YOUR_WRITES_MS', 0, 600000),
    },
    redis: {
      url: redisUrl,
      cacheUrl: cacheRaw,
      cluster: redisUrl.startsWith('redis+cluster://'),
      cacheCluster: cacheRaw.startsWith('redis+cluster://'),
      prefix,
      cacheBudgetBytes: int('CACHE_REDIS_BUDGET_MB', 1, 1024 * 1024) * 1024 * 1024,
      commandTimeoutMs: int('REDIS_COMMAND_TIMEOUT_MS', 100, 60000),
    },
    mail: { smtpUrl, from: mailFrom, opsEmail: get('OPS_EMAIL') },
    auth: {
      jwtSecret: secret('JWT_SECRET', 32),
      accessTtlSeconds: int('JWT_ACCESS_TTL_SECONDS', 10, 86400),
      refreshTtlSeconds: int('JWT_REFRESH_TTL_SECONDS', 60, 365 * 86400),
      loginMaxFailures: int('LOGIN_MAX_FAILURES', 1, 1000),
      loginFailureWindowSeconds: int('LOGIN_FAILURE_WINDOW_SECONDS', 1, 86400),
      loginIpMaxAttempts: int('LOGIN_IP_MAX_ATTEMPTS', 1, 10000000),
      lockAfterFailures: int('LOGIN_LOCK_AFTER_FAILURES', 0, 10000000),
      lockSeconds: int('LOGIN_LOCK_SECONDS', 1, 30 * 86400),
      registerRateLimit: int('REGISTER_RATE_LIMIT', 1, 10000000),
      registerRateWindowSeconds: int('REGISTER_RATE_WINDOW_SECONDS', 1, 86400),
      hashConcurrency:
        int('PASSWORD_HASH_CONCURRENCY', 0, 256) || Math.max(1, Math.floor(availableParallelism() / 2)),
      hashQueueLimit: int('PASSWORD_HASH_QUEUE_LIMIT', 0, 100000),
      hashMaxWaitMs: int('PASSWORD_HASH_MAX_WAIT_MS', 1, 600000),
      hashNice: int('PASSWORD_HASH_NICE', 0, 19),
      publicWebUrl: url('PUBLIC_WEB_URL', ['http:', 'https:']).replace(/\/+$/, ''),
      emailVerificationTtlSeconds: int('EMAIL_VERIFICATION_TTL_SECONDS', 1, 30 * 86400),
      passwordResetTtlSeconds: int('PASSWORD_RESET_TTL_SECONDS', 1, 86400),
      passwordResetIpLimit: int('PASSWORD_RESET_IP_LIMIT', 1, 10000000),
      accountMailLimit: int('ACCOUNT_MAIL_LIMIT', 1, 1000),
      accountMailWindowSeconds: int('ACCOUNT_MAIL_WINDOW_SECONDS', 60, 7 * 86400),
    },
    payments: {
      webhookSecret: secret('PAYMENT_WEBHOOK_SECRET', 16),
      sandbox: {
        webhookUrl: env.SANDBOX_WEBHOOK_URL ? url('SANDBOX_WEBHOOK_URL', ['http:', 'https:']) : '',
        duplicatePercent: int('SANDBOX_DUPLICATE_PERCENT', 0, 100),
        attempts: int('SANDBOX_WEBHOOK_ATTEMPTS', 1, 50),
        backoffMs: int('SANDBOX_WEBHOOK_BACKOFF_MS', 10, 600000),
      },
    },
    admin: { email: adminEmail.toLowerCase(), password: secret('ADMIN_PASSWORD', 8) },
    orders: {
      paymentTtlMs: int('ORDER_PAYMENT_TTL_MS', 1000, 7 * 86400 * 1000),
      limits: {
        maxUnpaidOrders: int('ORDER_MAX_UNPAID_ORDERS', 1, 1000000),
        maxUnpaidUnitsPerSku: int('ORDER_MAX_UNPAID_UNITS_PER_SKU', 1, 1000000),
        rateLimit: int('ORDER_RATE_LIMIT', 1, 1000000000),
        rateWindowMs: int('ORDER_RATE_WINDOW_SECONDS', 1, 86400) * 1000,
        unverified: {
          maxUnpaidOrders: int('ORDER_UNVERIFIED_MAX_UNPAID_ORDERS', 1, 1000000),
          maxUnpaidUnitsPerSku: int('ORDER_UNVERIFIED_MAX_UNPAID_UNITS_PER_SKU', 1, 1000000),
        },
      },
      watch: {
        maxPerUser: int('ORDER_WATCH_MAX_PER_USER', 1, 100000),
        maxPerConnection: int('ORDER_WATCH_MAX_PER_CONNECTION', 1, 100000),
        idleMs: int('ORDER_WATCH_IDLE_SECONDS', 1, 7 * 86400) * 1000,
      },
    },
    catalog: { search: oneOf('CATALOG_SEARCH', ['memory', 'fulltext'] as const) },
    commerce: {
      shopCountry,
      pricesIncludeTax: bool('PRICES_INCLUDE_TAX'),
      cartTtlSeconds: int('CART_TTL_SECONDS', 60, 90 * 86400),
    },
    flashSale: {
      batchSize: int('FLASH_SALE_BATCH_SIZE', 1, 5000),
      reclaimIdleMs: int('FLASH_SALE_RECLAIM_IDLE_MS', 100, 3600000),
      purchaseRateLimit: int('FLASH_SALE_PURCHASE_RATE_LIMIT', 1, 1000000),
      purchaseRateWindowMs: int('FLASH_SALE_PURCHASE_RATE_WINDOW_MS', 100, 3600000),
    },
    queues: {
      retryMaxDelayMs: int('QUEUE_RETRY_MAX_DELAY_MS', 1000, 3600000),
      redriveIntervalMs: int('QUEUE_REDRIVE_INTERVAL_MS', 1000, 86400000),
      backlogLimit: int('QUEUE_BACKLOG_LIMIT', 1, 10_000_000),
      deadLetterRetentionMs: int('DEAD_LETTER_RETENTION_HOURS', 1, 87600) * 3600_000,
      outboxRetentionMs: int('OUTBOX_RETENTION_HOURS', 1, 87600) * 3600_000,
    },
  });
  if (nodeEnv === 'production') {
    // A placeholder (the k8s Secret's CHANGE-ME) or a development default passes the length
    // checks above; in production it would be a secret anyone reading the repository knows.
    for (const name of ['JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET', 'ADMIN_PASSWORD']) {
      const p = placeholderProblem(name, env[name] ?? '');
      if (p) problems.push(p);
    }
    for (const name of ['DB_PRIMARY_URL', 'DB_REPLICA_URLS', 'REDIS_URL', 'CACHE_REDIS_URL'])
      for (const [i, url] of (env[name] ?? '').split(',').entries()) {
        const p = placeholderProblem(
          name === 'DB_REPLICA_URLS' ? `${name}[${i}] password` : `${name} password`,
          urlPassword(url),
        );
        if (p && !problems.includes(p)) problems.push(p);
      }
  }
  if (problems.length) throw new ConfigValidationError(problems);
  return cfg;
}

let cached: AppConfig | undefined;
/** The process-wide config, parsed once. Tests that boot several apps use {@link loadConfig} directly. */
export function appConfig(): AppConfig {
  if (!cached) {
    loadDotEnv();
    cached = loadConfig();
  }
  return cached;
}

export const runsHttp = (role: AppRole): boolean => role !== 'worker';
export const runsWorkers = (role: AppRole): boolean => role !== 'api';

/**
 * Loads `.env` from the working directory when present; variables already set win. With `names`,
 * only those variables are taken from it (the local-infrastructure resolver of the test and bench
 * setups reads just the ports and server URLs, not a developer's other settings).
 */
export function loadDotEnv(file = '.env', names?: readonly string[]): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { existsSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  if (!existsSync(file)) return;
  if (!names) return process.loadEnvFile(file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const parsed = (require('node:util') as typeof import('node:util')).parseEnv(readFileSync(file, 'utf8'));
  for (const name of names)
    if (parsed[name] !== undefined && process.env[name] === undefined) process.env[name] = parsed[name];
}
