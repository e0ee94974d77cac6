import { ConfigValidationError, ENV_DEFAULTS, REQUIRED_IN_PRODUCTION, loadConfig } from './app-config';

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return (err as ConfigValidationError).problems;
  }
}

/** Development is explicit: without NODE_ENV the process is production (fail closed). */
const DEV: NodeJS.ProcessEnv = { NODE_ENV: 'development' };

const PRODUCTION: NodeJS.ProcessEnv = {
  NODE_ENV: 'production',
  DB_PRIMARY_URL: 'mysql://shop:pw@db-writer:3306/shop',
  DB_REPLICA_URLS: 'mysql://shop:pw@db-reader-1:3306/shop,mysql://shop:pw@db-reader-2:3306/shop',
  REDIS_URL: 'redis://redis:6379',
  SMTP_URL: 'smtp://smtp-relay:25',
  JWT_SECRET: 'a-production-jwt-secret-of-at-least-32-chars',
  PAYMENT_WEBHOOK_SECRET: 'a-production-webhook-secret',
  ADMIN_PASSWORD: 'a-production-admin-password',
  PUBLIC_WEB_URL: 'https://shop.example.com',
};

describe('loadConfig', () => {
  it('on a Redis Cluster takes a plain REDIS_PREFIX and refuses one with a hash tag (it would put every key in one slot)', () => {
    const cluster = { ...DEV, REDIS_URL: 'redis+cluster://10.0.0.1:7000,10.0.0.2:7000' };
    const cfg = loadConfig({ ...cluster, REDIS_PREFIX: 'shop' });
    expect([cfg.redis.cluster, cfg.redis.cacheCluster, cfg.redis.prefix]).toEqual([true, true, 'shop']);
    expect(problemsOf({ ...cluster, REDIS_PREFIX: '{nc}' })).toEqual([
      expect.stringMatching(/^REDIS_PREFIX: "\{nc\}" must not contain braces on a Redis Cluster/),
    ]);
    expect(
      problemsOf({ ...DEV, CACHE_REDIS_URL: 'redis+cluster://10.0.0.1:7000', REDIS_PREFIX: 'a{b}' }),
    ).toEqual([expect.stringMatching(/^REDIS_PREFIX: .* must not contain braces/)]);
    // One Redis: braces are allowed as before, and nothing is tagged per queue or cache shard.
    const single = loadConfig({ ...DEV, REDIS_PREFIX: '{nc}' });
    expect([single.redis.cluster, single.redis.cacheCluster]).toEqual([false, false]);
  });

  it('accepts an otherwise empty environment in development: every default points at the local infrastructure', () => {
    const cfg = loadConfig(DEV);
    expect(cfg.env).toBe('development');
    expect([cfg.port, cfg.grpcPort, cfg.role]).toEqual([3000, 50051, 'all']);
    expect(cfg.db.primary.label).toBe('127.0.0.1:3307');
    expect(cfg.db.replicas.map((r) => r.label)).toEqual(['127.0.0.1:3308']);
    expect(cfg.redis.url).toBe(ENV_DEFAULTS.REDIS_URL);
    expect(cfg.mail.smtpUrl).toBe(ENV_DEFAULTS.SMTP_URL);
    // Every wait on a dependency is bounded by default (docs/decisions/0014).
    expect([cfg.redis.commandTimeoutMs, cfg.db.acquireTimeoutMs, cfg.db.queryTimeoutMs]).toEqual([
      2000, 3000, 10000,
    ]);
  });

  it.each([
    ['PORT', 'abc', /PORT: "abc" must be an integer between 0 and 65535/],
    ['PORT', '70000', /PORT: "70000" must be an integer/],
    ['GRPC_PORT', '-1', /GRPC_PORT: "-1" must be an integer/],
    ['APP_ROLE', 'web', /APP_ROLE: "web" must be one of all, api, worker/],
    ['NODE_ENV', 'staging', /NODE_ENV: "staging" must be one of development, test, production/],
    ['DB_PRIMARY_URL', 'foo', /DB_PRIMARY_URL: "foo" is not a URL/],
    ['DB_PRIMARY_URL', 'postgres://u:p@h/db', /DB_PRIMARY_URL: .* must look like mysql:\/\//],
    ['DB_REPLICA_URLS', 'mysql://a@h1/db,nope', /DB_REPLICA_URLS\[1\]: "nope" is not a URL/],
    ['REDIS_URL', 'http://h:1', /REDIS_URL: /],
    ['SMTP_URL', 'http://mail:25', /SMTP_URL: "http:\/\/mail:25" must be a URL with scheme smtp: or smtps:/],
    ['JWT_SECRET', 'short', /JWT_SECRET: must be at least 32 characters/],
    ['HTTP_LOG', 'maybe', /HTTP_LOG: "maybe" must be true or false/],
    ['DB_POOL_SIZE', '0', /DB_POOL_SIZE: "0" must be an integer between 1 and 1000/],
    ['ADMIN_EMAIL', 'admin', /ADMIN_EMAIL: "admin" is not an email address/],
    ['REDIS_PREFIX', 'has space', /REDIS_PREFIX: "has space" must match/],
    [
      'REDIS_COMMAND_TIMEOUT_MS',
      '0',
      /REDIS_COMMAND_TIMEOUT_MS: "0" must be an integer between 100 and 60000/,
    ],
    ['DB_ACQUIRE_TIMEOUT_MS', '-1', /DB_ACQUIRE_TIMEOUT_MS: "-1" must be an integer between 0 and 600000/],
  ])('refuses %s=%j with a message naming the variable', (name, value, message) => {
    const problems = problemsOf({ ...DEV, [name]: value });
    expect(problems).toEqual([expect.stringMatching(message)]);
    expect(problems[0].startsWith(name)).toBe(true);
  });

  it('reports every invalid variable at once, in the error message too', () => {
    let error: unknown;
    try {
      loadConfig({ ...DEV, PORT: 'x', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect((error as Error).message).toMatch(/^Invalid configuration:\n {2}- LOG_LEVEL: .*\n {2}- PORT: /);
  });

  it('never prints a database password in a message', () => {
    const [problem] = problemsOf({ ...DEV, DB_PRIMARY_URL: 'mysql://shop:s3cret@host' });
    expect(problem).toMatch(/^DB_PRIMARY_URL: "mysql:\/\/shop:\*\*\*@host"/);
    expect(problem).not.toContain('s3cret');
  });

  it('reads an empty DB_REPLICA_URLS as "no replicas" (reads on the primary), an unset one as the default', () => {
    expect(loadConfig({ ...DEV, DB_REPLICA_URLS: '' }).db.replicas).toEqual([]);
    expect(loadConfig({ ...DEV, DB_REPLICA_URLS: ' , ' }).db.replicas).toEqual([]);
    expect(loadConfig(DEV).db.replicas).toHaveLength(1);
    expect(loadConfig({ ...PRODUCTION, DB_REPLICA_URLS: '' }).db.replicas).toEqual([]);
  });

  it('reads several replicas in order', () => {
    const cfg = loadConfig(PRODUCTION);
    expect(cfg.db.replicas.map((r) => r.label)).toEqual(['db-reader-1:3306', 'db-reader-2:3306']);
  });

  it('in production, refuses to start without the server URLs and secrets instead of using the dev defaults', () => {
    expect(REQUIRED_IN_PRODUCTION).toEqual(
      expect.arrayContaining(['DB_PRIMARY_URL', 'DB_REPLICA_URLS', 'REDIS_URL', 'SMTP_URL', 'JWT_SECRET']),
    );
    expect(problemsOf(PRODUCTION)).toEqual([]);
    for (const name of REQUIRED_IN_PRODUCTION) {
      const env = { ...PRODUCTION };
      delete env[name];
      expect(problemsOf(env)).toEqual(
        expect.arrayContaining([`${name}: is required when NODE_ENV=production`]),
      );
    }
    const problems = problemsOf({ NODE_ENV: 'production' });
    for (const name of REQUIRED_IN_PRODUCTION)
      expect(problems).toContain(`${name}: is required when NODE_ENV=production`);
  });

  it('in production, an empty server URL is missing too (only the replica list may be empty)', () => {
    expect(problemsOf({ ...PRODUCTION, REDIS_URL: '' })).toEqual([
      'REDIS_URL: is required when NODE_ENV=production',
    ]);
    expect(problemsOf({ ...PRODUCTION, DB_REPLICA_URLS: '' })).toEqual([]);
  });

  it('without NODE_ENV behaves as production: refuses to start without its servers and secrets, naming them', () => {
    expect(loadConfig({ ...PRODUCTION, NODE_ENV: undefined }).env).toBe('production');
    const problems = problemsOf({});
    for (const name of REQUIRED_IN_PRODUCTION)
      expect(problems).toContain(`${name}: is required when NODE_ENV=production`);
  });

  it.each([
    ['ADMIN_PASSWORD', 'CHANGE-ME'],
    ['ADMIN_PASSWORD', ENV_DEFAULTS.ADMIN_PASSWORD],
    ['JWT_SECRET', ENV_DEFAULTS.JWT_SECRET],
    ['JWT_SECRET', 'compose-only-jwt-secret-change-me-0123456789'],
    ['PAYMENT_WEBHOOK_SECRET', ENV_DEFAULTS.PAYMENT_WEBHOOK_SECRET],
    ['PAYMENT_WEBHOOK_SECRET', 'replace-me-with-a-secret'],
    ['ADMIN_PASSWORD', 'password'],
  ])(
    'in production, refuses the placeholder or development value %s=%j (it passes the length check)',
    (name, value) => {
      const problems = problemsOf({ ...PRODUCTION, [name]: value });
      expect(problems).toEqual([
        expect.stringMatching(new RegExp(`^${name}: is a placeholder or development value`)),
      ]);
      // Outside production the same value is accepted.
      expect(problemsOf({ ...PRODUCTION, NODE_ENV: 'development', [name]: value })).toEqual([]);
    },
  );

  it('in production, refuses a placeholder password in a server URL without printing it', () => {
    const problems = problemsOf({
      ...PRODUCTION,
      DB_REPLICA_URLS: 'mysql://shop:pw@db-reader-1:3306/shop,mysql://shop:CHANGE-ME@db-reader-2:3306/shop',
      REDIS_URL: 'redis://:CHANGE-ME@redis:6379',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^DB_REPLICA_URLS\[1\] password: is a placeholder/),
      expect.stringMatching(/^REDIS_URL password: is a placeholder/),
    ]);
    expect(problems.join('\n')).not.toMatch(/db-reader-2|CHANGE-ME@/);
  });
});
