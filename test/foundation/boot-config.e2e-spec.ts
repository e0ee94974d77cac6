import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The real entry point (src/main.ts, as `npm run up` and `node dist/main.js` start it) refuses a
 * bad configuration before it connects to anything: exit code 1, the variable named on stderr.
 */
const ROOT = join(__dirname, '..', '..');

function boot(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'src', 'main.ts')],
      {
        cwd, // no .env there
        env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
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
});
