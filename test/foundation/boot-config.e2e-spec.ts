import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/net';
import { REQUIRED_IN_PRODUCTION } from '../../src/infra/config/app-config';
import { eventually, http } from '../support/test-app';

/**
 * The real entry point (src/main.ts, as `npm run up` and `node dist/main.js` start it) refuses a
 * bad configuration before it connects to anything: exit code 1, the variable named on stderr.
 */
const ROOT = join(__dirname, '..', '..');

/** src/main.ts as `node dist/main.js` would run it: only `env` (no NODE_ENV unless given), no .env. */
function start(env: NodeJS.ProcessEnv, cwd: string): ChildProcess {
  return spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'src', 'main.ts')],
    {
      cwd, // no .env there
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function boot(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = start(env, cwd);
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    proc.stderr!.on('data', (d) => (stderr += d));
    proc.once('error', reject);
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('boot: a missing or invalid variable stops the process, naming it', () => {
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'nc-boot-'));
  });
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('exits 1 on PORT=abc with a message naming PORT, before listening or connecting', async () => {
    // Servers that do not exist: a process that got past validation would fail differently.
    const res = await boot(
      { PORT: 'abc', DB_PRIMARY_URL: 'mysql://u:p@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' },
      cwd,
    );
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('Invalid configuration:');
    expect(res.stderr).toContain('PORT: "abc" must be an integer between 0 and 65535');
    expect(res.stderr).not.toMatch(/ECONNREFUSED|startup failed/);
    expect(res.stdout).not.toContain('role=');
  });

  it('in production, exits 1 naming every server URL and secret left unset instead of using the dev defaults', async () => {
    const res = await boot({ NODE_ENV: 'production', DB_REPLICA_URLS: '' }, cwd);
    expect(res.code).toBe(1);
    for (const name of [
      'DB_PRIMARY_URL',
      'REDIS_URL',
      'SMTP_URL',
      'JWT_SECRET',
      'PAYMENT_WEBHOOK_SECRET',
      'ADMIN_PASSWORD',
      'PUBLIC_WEB_URL',
    ])
      expect(res.stderr).toContain(`${name}: is required when NODE_ENV=production`);
    // Given, though empty: reads on the primary, not a missing variable.
    expect(res.stderr).not.toContain('DB_REPLICA_URLS');
  });

  it('without NODE_ENV (as `node dist/main.js` is started) it is production: exits 1 naming every server URL and secret, using no development default', async () => {
    const res = await boot({}, cwd);
    expect(res.code).toBe(1);
    for (const name of REQUIRED_IN_PRODUCTION)
      expect(res.stderr).toContain(`${name}: is required when NODE_ENV=production`);
    expect(res.stderr).not.toMatch(/ECONNREFUSED|startup failed/);
    expect(res.stdout).not.toContain('role=');
  });

  it("in production, exits 1 on placeholder secrets that pass the length checks (the k8s Secret's CHANGE-ME, the dev defaults)", async () => {
    const res = await boot(
      {
        NODE_ENV: 'production',
        DB_PRIMARY_URL: 'mysql://shop:CHANGE-ME@127.0.0.1:1/shop',
        DB_REPLICA_URLS: '',
        REDIS_URL: 'redis://127.0.0.1:1',
        SMTP_URL: 'smtp://127.0.0.1:1',
        JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789',
        PAYMENT_WEBHOOK_SECRET: 'dev-only-webhook-secret-change-me',
        ADMIN_PASSWORD: 'CHANGE-ME',
      },
      cwd,
    );
    expect(res.code).toBe(1);
    for (const name of ['JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET', 'ADMIN_PASSWORD', 'DB_PRIMARY_URL password'])
      expect(res.stderr).toContain(`${name}: is a placeholder or development value`);
    expect(res.stderr).not.toContain('CHANGE-ME@');
  });

  it('without NODE_ENV but with its servers and real secrets it runs as production: the sandbox POST /payments/:id/confirm does not exist', async () => {
    const [port, grpcPort] = [await freePort(), await freePort()];
    const env = process.env;
    const proc = start(
      {
        APP_ROLE: 'api',
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        DB_PRIMARY_URL: env.DB_PRIMARY_URL,
        DB_REPLICA_URLS: env.DB_REPLICA_URLS,
        REDIS_URL: env.REDIS_URL,
        REDIS_PREFIX: `${env.REDIS_PREFIX ?? 'test'}-boot-${randomBytes(3).toString('hex')}`,
        SMTP_URL: 'smtp://127.0.0.1:9',
        JWT_SECRET: randomBytes(32).toString('hex'),
        PAYMENT_WEBHOOK_SECRET: randomBytes(16).toString('hex'),
        // An admin of its own: the run's database is shared, and the suites log in as the default admin.
        ADMIN_EMAIL: `boot-${randomBytes(4).toString('hex')}@test.local`,
        ADMIN_PASSWORD: randomBytes(12).toString('hex'),
        PUBLIC_WEB_URL: 'https://shop.example',
        LOG_LEVEL: 'warn',
      },
      cwd,
    );
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => (await http('GET', `${base}/health`)).status === 200, 90_000, 250).catch(
        (err: Error) => {
          throw new Error(`${err.message}; exit ${proc.exitCode}; stderr: ${stderr}`);
        },
      );
      const id = '00000000-0000-7000-8000-000000000000';
      // The route is absent: the router's 404, before authentication (no 401 for a missing token).
      const confirm = await http('POST', `${base}/api/v1/payments/${id}/confirm`, {
        body: { card: '4242424242424242' },
      });
      expect(confirm.status).toBe(404);
      expect(confirm.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
      // Its neighbours exist (401 without a token), and the document does not list it.
      expect((await http('GET', `${base}/api/v1/payments/${id}`)).status).toBe(401);
      const doc = (await http('GET', `${base}/docs-json`)).body;
      expect(Object.keys(doc.paths)).toContain('/api/v1/payments/{id}');
      expect(Object.keys(doc.paths)).not.toContain('/api/v1/payments/{id}/confirm');
    } finally {
      proc.kill('SIGKILL');
    }
  }, 120_000);
});
