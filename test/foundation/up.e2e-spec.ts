import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/net';
import { COMPONENTS, infraProcesses, portOpen } from '../../scripts/infra/local-infra';
import { ENV_DEFAULTS } from '../../src/infra/config/app-config';

/**
 * `npm run up` as a user runs it, on its own infrastructure (a private INFRA_LOCAL_DIR and
 * ports, so the run's shared servers are not touched) and from a directory without a .env.
 * Ctrl-C is sent as a terminal sends it: SIGINT to the whole foreground process group.
 */
const ROOT = join(__dirname, '..', '..');

interface Up {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

describe('npm run up', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ports: Record<string, number>;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nc-up-'));
    ports = {
      INFRA_MYSQL_PRIMARY_PORT: await freePort(),
      INFRA_MYSQL_REPLICA_PORT: await freePort(),
      INFRA_REDIS_PORT: await freePort(),
      INFRA_SMTP_PORT: await freePort(),
      INFRA_MAIL_WEB_PORT: await freePort(),
      PORT: await freePort(),
      GRPC_PORT: await freePort(),
    };
    // Only what a shell would have: none of this run's DB_*/REDIS_* variables.
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      INFRA_LOCAL_DIR: join(dir, 'local'),
      INFRA_ENGINE: 'local',
      LOG_LEVEL: 'warn',
      HTTP_LOG: 'false',
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    };
  });

  afterAll(async () => {
    for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    // Whatever a failed assertion left behind: stopped here, verified through /proc.
    const { infraDown } = await import('../../scripts/infra/local-infra');
    await withInfraDir(() => infraDown({ log: () => undefined })).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  function withInfraDir<T>(fn: () => T): T {
    const saved = process.env.INFRA_LOCAL_DIR;
    process.env.INFRA_LOCAL_DIR = env.INFRA_LOCAL_DIR;
    try {
      return fn();
    } finally {
      if (saved === undefined) delete process.env.INFRA_LOCAL_DIR;
      else process.env.INFRA_LOCAL_DIR = saved;
    }
  }

  /** `npm run up` as a user types it (`viaNpm`), or its script directly from a directory without a .env. */
  function up(extra: NodeJS.ProcessEnv = {}, viaNpm = false): Up {
    const proc = viaNpm
      ? spawn('npm', ['run', 'up'], {
          cwd: ROOT,
          env: { ...env, ...extra },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(
          process.execPath,
          ['-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'scripts', 'up.ts')],
          { cwd: dir, env: { ...env, ...extra }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
        );
    running.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    return { proc, output: () => out, exited };
  }

  async function waitFor(u: Up, text: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!text.test(u.output())) {
      if (u.proc.exitCode !== null)
        throw new Error(`up exited (${u.proc.exitCode}) before ${text}:\n${u.output()}`);
      if (Date.now() > deadline) throw new Error(`no ${text} within ${timeoutMs} ms:\n${u.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Nothing of the private infrastructure runs (pids verified through /proc) and no port answers. */
  async function expectNothingRunning(): Promise<void> {
    const pids = withInfraDir(() => infraProcesses());
    expect(Object.fromEntries(COMPONENTS.map((c) => [c, pids[c]]))).toEqual({
      primary: [],
      replica: [],
      redis: [],
      mail: [],
    });
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
  }

  const ctrlC = (u: Up) => process.kill(-u.proc.pid!, 'SIGINT');

  it('Ctrl-C during the first start of the infrastructure stops every server it had started', async () => {
    const u = up();
    // The datadirs are initialised, the servers are being spawned: nothing is ready yet.
    await waitFor(u, /mysql-(primary|replica): starting/, 120_000);
    ctrlC(u);
    expect(await u.exited).toBe(0);
    expect(u.output()).toContain('stopping...');
    await expectNothingRunning();
  }, 180_000);

  it('exits non-zero and stops the servers it started when the migrations fail', async () => {
    // The local primary's port, so the infrastructure is started, but a database that does not exist.
    const u = up({
      DB_PRIMARY_URL: `mysql://shop:shop@127.0.0.1:${ports.INFRA_MYSQL_PRIMARY_PORT}/no_such_database`,
    });
    expect(await u.exited).toBe(1);
    expect(u.output()).toMatch(/applying migrations[\s\S]*no_such_database/);
    await expectNothingRunning();
  }, 180_000);

  it('brings up infrastructure, migrations and the app with no warning, every URL of the banner answers 200, another checkout on the same ports is refused, and SIGINT to npm stops all of it', async () => {
    const u = up({}, true);
    await waitFor(u, /nest-commerce is up:/, 240_000);
    const base = `http://localhost:${ports.PORT}`;
    expect(u.output()).toContain(`REST API      ${base}/api/v1`);
    expect(u.output()).toContain(`Mail inbox    http://127.0.0.1:${ports.INFRA_MAIL_WEB_PORT}`);
    // A healthy boot logs no warning (LOG_LEVEL=warn: any line printed at warn or above) and npm
    // none either (no unknown config, no engine mismatch).
    const warnings = u
      .output()
      .split('\n')
      .filter((l) => /"level":([4-9]\d)/.test(l) || /^npm (warn|WARN|ERR)/.test(l));
    expect(warnings).toEqual([]);
    // Every URL of the banner answers 200; Bull Board with the HTTP Basic login the banner gives.
    const banner = u.output().slice(u.output().indexOf('nest-commerce is up:'));
    const urls = [...new Set(banner.match(/https?:\/\/[^\s)]+/g))];
    const basic = /Bull Board .*\(HTTP Basic: (\S+) \/ (\S+)\)/.exec(banner)!;
    const auth = `Basic ${Buffer.from(`${basic[1]}:${basic[2]}`).toString('base64')}`;
    const answers = await Promise.all(
      urls.map(async (url) => {
        const res = await fetch(url, {
          headers: url.endsWith('/admin/queues') ? { authorization: auth } : {},
        });
        return [url, res.status];
      }),
    );
    expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(urls.map((url) => [url, 200])));
    expect(urls.length).toBeGreaterThanOrEqual(7);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' }); // anonymous: the status only
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: ENV_DEFAULTS.ADMIN_EMAIL, password: ENV_DEFAULTS.ADMIN_PASSWORD }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const detail = await fetch(`${base}/health/ready`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(await detail.json()).toMatchObject({ status: 'ok', reads: 'replicas' });
    expect((await fetch(`${base}/docs`)).status).toBe(200);
    // Demo data was seeded.
    const products = (await (await fetch(`${base}/api/v1/products`)).json()) as { items: unknown[] };
    expect(products.items.length).toBeGreaterThan(0);

    // A second checkout (its own .local/) on the same ports: refused, the first one's servers untouched.
    const other = join(dir, 'other-checkout');
    const second = up({
      INFRA_LOCAL_DIR: other,
      PORT: String(await freePort()),
      GRPC_PORT: String(await freePort()),
    });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('in use by servers this checkout did not start');
    expect(second.output()).toMatch(/INFRA_MYSQL_PRIMARY_PORT=\d+/);
    expect(second.output()).not.toContain('applying migrations');
    const status = await new Promise<string>((resolve) => {
      let out = '';
      const p = spawn(
        process.execPath,
        [
          '-r',
          require.resolve('ts-node/register/transpile-only'),
          join(ROOT, 'scripts', 'infra', 'cli.ts'),
          'status',
          '--json',
        ],
        { cwd: dir, env: { ...env, INFRA_LOCAL_DIR: other } },
      );
      p.stdout.on('data', (d) => (out += d));
      p.once('exit', () => resolve(out));
    });
    expect(JSON.parse(status)).toEqual({
      primary: 'foreign',
      replica: 'foreign',
      redis: 'foreign',
      mail: 'foreign',
    });
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    // A signal sent to npm's pid (as a script or a service manager sends it) stops everything.
    process.kill(u.proc.pid!, 'SIGINT');
    expect(await u.exited).toBe(0);
    await expectNothingRunning();
  }, 400_000);
});
