/**
 * Private local infrastructure for nest-commerce: a MariaDB/MySQL primary + GTID replica, Redis
 * and a dev mail catcher, all state under `<repo>/.local/`, never the machine's own servers
 * (3306 / 6379 are never touched; every process we signal is verified through /proc first).
 *
 *   engine 'docker': `docker compose up -d mysql-primary mysql-replica redis mailcatcher`
 *                    when a Docker engine answers and docker-compose.yml exists;
 *   engine 'local' : the binaries found on this machine (mariadbd, or mysqld 8.4; redis-server)
 *                    plus scripts/infra/mail-catcher.ts, spawned detached.
 * INFRA_ENGINE=local|docker forces one.
 *
 * Servers belong to the checkout that started them. A component already answering on its port is
 * reused only when the server itself says it runs on this checkout's state (MariaDB/MySQL:
 * `@@datadir` is `.local/mysql-<role>/data`; Redis: `CONFIG GET dir` is `.local/redis`; the mail
 * catcher: `/api/owner` names this `.local/`; the Docker engine: the service runs in this
 * checkout's compose project). Anything else on a port (another checkout's servers, a system
 * service) is never used, migrated or seeded: infraUp stops with a message naming the INFRA_*
 * variables and free ports to use instead, and infraStatus reports it as `foreign`.
 *
 * Component names (used in `started` / `reused` / `only` / infraStatus): 'primary', 'replica',
 * 'redis', 'mail' (also accepted: mysql-primary, mysql-replica, mailcatcher, mysql = both).
 */
import { AsyncLocalStorage } from 'async_hooks';
import { ChildProcess, execFile, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import mysql from 'mysql2/promise';

export type Component = 'primary' | 'replica' | 'redis' | 'mail';
/** @deprecated alias of Component */
export type ComponentName = Component;
export const COMPONENTS: readonly Component[] = ['primary', 'replica', 'redis', 'mail'];
/** docker-compose.yml service of each component. */
export const COMPOSE_SERVICE: Record<Component, string> = {
  primary: 'mysql-primary',
  replica: 'mysql-replica',
  redis: 'redis',
  mail: 'mailcatcher',
};

/** The INFRA_* variable of each port of a component, and its default. */
export const PORT_VARS: Record<Component, { name: string; key: keyof InfraConfig['ports']; def: number }[]> =
  {
    primary: [{ name: 'INFRA_MYSQL_PRIMARY_PORT', key: 'primary', def: 3307 }],
    replica: [{ name: 'INFRA_MYSQL_REPLICA_PORT', key: 'replica', def: 3308 }],
    redis: [{ name: 'INFRA_REDIS_PORT', key: 'redis', def: 6380 }],
    mail: [
      { name: 'INFRA_SMTP_PORT', key: 'smtp', def: 1025 },
      { name: 'INFRA_MAIL_WEB_PORT', key: 'mailWeb', def: 1080 },
    ],
  };

export interface InfraEndpoints {
  primaryUrl: string;
  replicaUrls: string[];
  redisUrl: string;
  smtpUrl: string;
  mailWebUrl: string;
}
export interface InfraUpResult {
  endpoints: InfraEndpoints;
  started: string[];
  reused: string[];
  engine: 'docker' | 'local';
}
export interface InfraUpOptions {
  log?: (line: string) => void;
  /** Start the mail catcher too (default true). */
  mail?: boolean;
  /** Only bring up these components (names or aliases); default: all. */
  only?: string[];
  /**
   * Called with each component just before this call spawns its server. From then on the caller
   * owns it: stop it (infraDown with `only`) also when infraUp rejects or is aborted, since a
   * server may be running although it never became ready.
   */
  onStart?: (component: Component) => void;
  /** Aborting makes infraUp reject soon: no further server is spawned and every wait ends. */
  signal?: AbortSignal;
}
export interface InfraDownOptions {
  log?: (line: string) => void;
  /** Only stop these components (names or aliases, e.g. the `started` list of infraUp). */
  only?: string[];
  /** Also delete the state (whole `.local/`, or only the named components' folders). */
  purge?: boolean;
}

const HOST = '127.0.0.1';
const APP_USER = 'shop';
const APP_PASSWORD = 'shop';
const APP_DATABASE = 'shop';
const REPL_USER = 'repl';
const REPL_PASSWORD = 'repl';
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

// ---------------------------------------------------------------------------------------------
// configuration
// ---------------------------------------------------------------------------------------------

export interface InfraConfig {
  repoRoot: string;
  localDir: string;
  composeFile: string;
  ports: { primary: number; replica: number; redis: number; smtp: number; mailWeb: number };
}

function envPort(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${raw} is not a valid TCP port`);
  return n;
}

export const ROOT = path.resolve(__dirname, '..', '..');

/** Read on every call, so tests may change INFRA_* env vars between calls. */
export function infraConfig(): InfraConfig {
  return {
    repoRoot: ROOT,
    localDir: path.resolve(process.env.INFRA_LOCAL_DIR || path.join(ROOT, '.local')),
    composeFile: path.join(ROOT, 'docker-compose.yml'),
    ports: Object.fromEntries(
      Object.values(PORT_VARS)
        .flat()
        .map((v) => [v.key, envPort(v.name, v.def)]),
    ) as InfraConfig['ports'],
  };
}

/** The compose project of this checkout's Docker engine: one per `.local/`, so two checkouts never share containers or volumes. */
export function composeProject(cfg: InfraConfig = infraConfig()): string {
  return `nest-commerce-${createHash('sha1').update(cfg.localDir).digest('hex').slice(0, 8)}`;
}

/**
 * The port the local replica replicates from: the primary's, unless INFRA_REPLICA_SOURCE_PORT
 * names another (a proxy or tunnel in front of the primary, e.g. the fault tests' latency proxy).
 */
export function replicationSourcePort(cfg: InfraConfig = infraConfig()): number {
  return envPort('INFRA_REPLICA_SOURCE_PORT', cfg.ports.primary);
}

/** Values at load time (compatibility exports). */
export const LOCAL = infraConfig().localDir;
export const PORTS = infraConfig().ports;

export function infraEndpoints(cfg: InfraConfig = infraConfig()): InfraEndpoints {
  const p = cfg.ports;
  return {
    primaryUrl: `mysql://${APP_USER}:${APP_PASSWORD}@${HOST}:${p.primary}/${APP_DATABASE}`,
    replicaUrls: [`mysql://${APP_USER}:${APP_PASSWORD}@${HOST}:${p.replica}/${APP_DATABASE}`],
    redisUrl: `redis://${HOST}:${p.redis}`,
    smtpUrl: `smtp://${HOST}:${p.smtp}`,
    mailWebUrl: `http://${HOST}:${p.mailWeb}`,
  };
}
export const endpoints = (): InfraEndpoints => infraEndpoints();

/** Maps names/aliases to component names; throws on unknown names. */
export function resolveComponents(names?: readonly string[]): Component[] {
  if (!names) return [...COMPONENTS];
  const out = new Set<Component>();
  for (const raw of names) {
    const n = raw.trim().toLowerCase();
    if (!n) continue;
    if (n === 'mysql' || n === 'mariadb' || n === 'db') {
      out.add('primary');
      out.add('replica');
    } else if (n === 'primary' || n === 'mysql-primary') out.add('primary');
    else if (n === 'replica' || n === 'mysql-replica') out.add('replica');
    else if (n === 'redis') out.add('redis');
    else if (n === 'mail' || n === 'mailcatcher' || n === 'mail-catcher' || n === 'smtp') out.add('mail');
    else throw new Error(`unknown infra component "${raw}" (expected one of ${COMPONENTS.join(', ')})`);
  }
  return COMPONENTS.filter((c) => out.has(c));
}

interface MysqlNode {
  name: 'primary' | 'replica';
  label: string;
  serverId: number;
  port: number;
  dir: string;
  datadir: string;
  socket: string;
  pidFile: string;
  errorLog: string;
  stdoutLog: string;
  initMarker: string;
  tmpdir: string;
}

function mysqlNode(cfg: InfraConfig, role: 'primary' | 'replica'): MysqlNode {
  const dir = path.join(cfg.localDir, `mysql-${role}`);
  let socket = path.join(dir, 'mysqld.sock');
  // unix socket paths are limited to ~107 bytes; fall back to a stable name in the temp dir
  if (Buffer.byteLength(socket) > 100) {
    const h = createHash('sha1').update(dir).digest('hex').slice(0, 10);
    socket = path.join(os.tmpdir(), `nest-commerce-${h}-${role}.sock`);
  }
  return {
    name: role,
    label: `mysql-${role}`,
    serverId: role === 'primary' ? 1 : 2,
    port: role === 'primary' ? cfg.ports.primary : cfg.ports.replica,
    dir,
    datadir: path.join(dir, 'data'),
    socket,
    pidFile: path.join(dir, 'mysqld.pid'),
    errorLog: path.join(dir, 'error.log'),
    stdoutLog: path.join(dir, 'stdout.log'),
    initMarker: path.join(dir, '.initialized'),
    // private tmpdir: two bootstraps sharing /tmp can collide on internal temp table names
    tmpdir: path.join(dir, 'tmp'),
  };
}

function redisPaths(cfg: InfraConfig) {
  const dir = path.join(cfg.localDir, 'redis');
  return {
    dir,
    pidFile: path.join(dir, 'redis.pid'),
    logFile: path.join(dir, 'redis.log'),
    stdoutLog: path.join(dir, 'stdout.log'),
  };
}

function mailPaths(cfg: InfraConfig) {
  const dir = path.join(cfg.localDir, 'mail');
  const ts = __filename.endsWith('.ts');
  return {
    dir,
    pidFile: path.join(dir, 'mail.pid'),
    logFile: path.join(dir, 'mail.log'),
    script: path.join(__dirname, ts ? 'mail-catcher.ts' : 'mail-catcher.js'),
    // passed on the command line so /proc tells our catcher from any other instance
    marker: `--infra-dir=${cfg.localDir}`,
    ts,
  };
}

/** Pid files written by an earlier version of this script (`.local/pids/<component>.pid`). */
function legacyPidFile(cfg: InfraConfig, c: Component): string {
  return path.join(cfg.localDir, 'pids', `${c}.pid`);
}

// ---------------------------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------------------------

/** The options of the infraUp call the current async context belongs to (abort, onStart). */
const upScope = new AsyncLocalStorage<Pick<InfraUpOptions, 'onStart' | 'signal'>>();

function throwIfAborted(): void {
  if (upScope.getStore()?.signal?.aborted) throw new Error('interrupted');
}

/** Every wait loop sleeps through here, so an aborted infraUp stops waiting at once. */
const sleep = async (ms: number) => {
  throwIfAborted();
  await new Promise<void>((r) => setTimeout(r, ms));
  throwIfAborted();
};

/** Right before a server of `c` is spawned: nothing more starts once aborted; the caller learns what may run. */
function announceStart(c: Component): void {
  throwIfAborted();
  upScope.getStore()?.onStart?.(c);
}

function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function tail(file: string, lines = 15): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return text
      .slice(-lines)
      .map((l) => `    ${l}`)
      .join('\n');
  } catch {
    return '    (no log)';
  }
}

/** TCP connect to host:port within timeoutMs. */
export function portOpen(port: number, host = HOST, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function run(
  bin: string,
  args: string[],
  opts: { timeoutMs: number; cwd?: string },
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { timeout: opts.timeoutMs, cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const out = `${stdout ?? ''}${stderr ?? ''}`;
        if (!err) return resolve({ code: 0, out });
        const code =
          typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
        resolve({ code: code || 1, out: out || err.message });
      },
    );
  });
}

const SEARCH_DIRS = [
  '/usr/sbin',
  '/usr/local/sbin',
  '/usr/local/mysql/bin',
  '/usr/local/bin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

/** `which`-like lookup in PATH plus the usual sbin folders. */
export function findBinary(names: string[], extraDirs: string[] = []): string | null {
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean),
    ...SEARCH_DIRS,
    ...extraDirs,
  ];
  for (const name of names) {
    for (const d of dirs) {
      const p = path.join(d, name);
      try {
        if (fs.statSync(p).isFile()) {
          fs.accessSync(p, fs.constants.X_OK);
          return p;
        }
      } catch {
        /* next */
      }
    }
  }
  return null;
}

function spawnDetached(
  bin: string,
  args: string[],
  logFile: string,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): ChildProcess {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, 'a');
  try {
    const child = spawn(bin, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: opts.cwd,
      env: opts.env ?? process.env,
    });
    child.on('error', () => undefined); // surfaced through exitWatch
    child.unref();
    return child;
  } finally {
    fs.closeSync(fd);
  }
}

/** Tracks whether a spawned child has exited, so waits fail fast instead of timing out. */
function exitWatch(child: ChildProcess): { exited: () => string | null } {
  let state: string | null = null;
  child.once('exit', (code, signal) => (state = signal ? `killed by ${signal}` : `exited with code ${code}`));
  child.once('error', (e) => (state = `failed to start: ${e.message}`));
  return { exited: () => state };
}

// --- process bookkeeping (pid files, verified against /proc so we never signal a stranger) ---

const HAS_PROC = fs.existsSync('/proc/self/cmdline');

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 1 ? n : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (HAS_PROC) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.charAt(stat.lastIndexOf(')') + 2);
      if (state === 'Z' || state === 'X') return false;
    } catch {
      return false;
    }
  }
  return true;
}

function procCmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function procCwd(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
}

function procPids(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => p !== process.pid);
  } catch {
    return [];
  }
}

interface Owned {
  pidFiles: string[];
  /** pid is one of ours (inspected through /proc; only called when /proc exists) */
  isOurs: (pid: number) => boolean;
  /** stricter test used when scanning all processes without a pid file */
  scanMatch: (pid: number) => boolean;
}

function ownedFor(cfg: InfraConfig, c: Component): Owned {
  if (c === 'primary' || c === 'replica') {
    const n = mysqlNode(cfg, c);
    const isOurs = (pid: number) => procCmdline(pid).includes(`--datadir=${n.datadir} `);
    return { pidFiles: [n.pidFile, legacyPidFile(cfg, c)], isOurs, scanMatch: isOurs };
  }
  if (c === 'redis') {
    const r = redisPaths(cfg);
    // redis rewrites its process title, but it chdirs into --dir
    const isOurs = (pid: number) => procCwd(pid) === r.dir && /redis/.test(procCmdline(pid));
    return { pidFiles: [r.pidFile, legacyPidFile(cfg, c)], isOurs, scanMatch: isOurs };
  }
  const m = mailPaths(cfg);
  return {
    pidFiles: [m.pidFile, legacyPidFile(cfg, c)],
    isOurs: (pid) => procCmdline(pid).includes(m.script),
    scanMatch: (pid) => procCmdline(pid).includes(m.script) && procCmdline(pid).includes(m.marker),
  };
}

/** Live pids of our own process for a component (pid files first, then a /proc scan). */
function ourPids(cfg: InfraConfig, c: Component): number[] {
  const o = ownedFor(cfg, c);
  const found = new Set<number>();
  for (const f of o.pidFiles) {
    const pid = readPid(f);
    if (pid && isAlive(pid) && (!HAS_PROC || o.isOurs(pid))) found.add(pid);
  }
  if (!found.size && HAS_PROC) for (const p of procPids()) if (o.scanMatch(p) && isAlive(p)) found.add(p);
  return [...found];
}

/** Pids of the processes this script would stop on `down` (ours, verified through /proc). */
export function infraProcesses(): Record<Component, number[]> {
  const cfg = infraConfig();
  const out = {} as Record<Component, number[]>;
  for (const c of COMPONENTS) out[c] = ourPids(cfg, c);
  return out;
}

async function terminate(pids: number[], graceMs: number): Promise<boolean> {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !isAlive(p))) return true;
    await sleep(100);
  }
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  const killDeadline = Date.now() + 5000;
  while (Date.now() < killDeadline && pids.some((p) => isAlive(p))) await sleep(100);
  return false;
}

// --- a tiny cross-process lock so parallel `up`/`down` calls don't race ---

async function withLock<T>(cfg: InfraConfig, fn: () => Promise<T>): Promise<T> {
  fs.mkdirSync(cfg.localDir, { recursive: true });
  const lock = path.join(cfg.localDir, 'infra.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      const fd = fs.openSync(lock, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readPid(lock);
      let stale: boolean;
      if (holder === null) {
        // being written right now, or garbage: stale only if old
        try {
          stale = Date.now() - fs.statSync(lock).mtimeMs > 5000;
        } catch {
          stale = false;
        }
      } else stale = holder === process.pid || !isAlive(holder);
      if (stale) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

// --- state file (which engine brought things up) ---

function readEngine(cfg: InfraConfig): 'docker' | 'local' | null {
  try {
    const s = JSON.parse(fs.readFileSync(path.join(cfg.localDir, 'state.json'), 'utf8')) as {
      engine?: string;
    };
    return s.engine === 'docker' || s.engine === 'local' ? s.engine : null;
  } catch {
    return null;
  }
}

function writeEngine(cfg: InfraConfig, engine: 'docker' | 'local'): void {
  fs.mkdirSync(cfg.localDir, { recursive: true });
  fs.writeFileSync(
    path.join(cfg.localDir, 'state.json'),
    JSON.stringify({ engine, updatedAt: new Date().toISOString() }, null, 2),
  );
}

// ---------------------------------------------------------------------------------------------
// probes
// ---------------------------------------------------------------------------------------------

function mysqlConnect(o: mysql.ConnectionOptions): Promise<mysql.Connection> {
  return mysql.createConnection({ connectTimeout: 1500, ...o });
}

async function closeQuietly(conn: mysql.Connection | undefined): Promise<void> {
  if (conn) await conn.end().catch(() => conn.destroy());
}

/** true when `shop` can log in over TCP on the port. */
async function shopLoginOk(port: number): Promise<boolean> {
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysqlConnect({ host: HOST, port, user: APP_USER, password: APP_PASSWORD });
    await conn.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await closeQuietly(conn);
  }
}

type RedisPing = 'pong' | 'loading' | 'other' | 'closed';

/** Raw RESP PING so this file needs no Redis client. */
function redisPing(port: number, timeoutMs = 1000): Promise<RedisPing> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    let buf = '';
    const done = (r: RedisPing) => {
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      resolve(r);
    };
    s.setTimeout(timeoutMs, () => done(buf ? 'other' : 'closed'));
    s.once('error', () => done('closed'));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (!buf.includes('\r\n')) return;
      if (buf.startsWith('+PONG')) done('pong');
      else if (buf.startsWith('-LOADING')) done('loading');
      else done('other');
    });
    s.once('close', () => done(buf ? 'other' : 'closed'));
  });
}

async function mailPorts(cfg: InfraConfig): Promise<{ smtp: boolean; web: boolean }> {
  const [smtp, web] = await Promise.all([portOpen(cfg.ports.smtp), portOpen(cfg.ports.mailWeb)]);
  return { smtp, web };
}

/**
 * What answers on a component's port(s), as this checkout sees it:
 *  - `up`: this checkout's server, ready for the app;
 *  - `unhealthy`: this checkout's server, but not ready (starting, loading, app user missing);
 *  - `down`: nothing listens;
 *  - `foreign`: something listens that this checkout did not start (another checkout's server,
 *    a system service): never used.
 */
export type ComponentState = 'up' | 'unhealthy' | 'down' | 'foreign';
export interface ComponentProbe {
  state: ComponentState;
  /** For `foreign`: what was found instead (e.g. the other server's data directory). */
  detail?: string;
}

/** Same file or directory (both resolved through symlinks); false when either does not exist. */
function samePath(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return null;
    }
  };
  const ra = real(a);
  return ra !== null && ra === real(b);
}

/** One Redis command over a raw RESP connection: the reply's lines, or null (no answer). */
function redisCommand(port: number, args: string[], timeoutMs = 1000): Promise<string[] | null> {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    let buf = '';
    const done = (r: string[] | null) => {
      s.removeAllListeners();
      s.on('error', () => undefined);
      s.destroy();
      resolve(r);
    };
    const complete = () => {
      const lines = buf.split('\r\n');
      if (lines.length < 2) return false;
      const head = lines[0];
      if (!head.startsWith('*')) return true; // +simple, -error, :int: one line
      // an array of bulk strings: two lines per element
      return lines.length > 1 + 2 * Math.max(0, Number(head.slice(1)));
    };
    s.setTimeout(timeoutMs, () => done(buf ? buf.split('\r\n') : null));
    s.once('error', () => done(null));
    s.once('connect', () =>
      s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`),
    );
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (complete()) done(buf.split('\r\n'));
    });
    s.once('close', () => done(buf ? buf.split('\r\n') : null));
  });
}

/** Services of this checkout's compose project that run (Docker engine), or null when docker cannot tell. */
async function composeRunning(cfg: InfraConfig): Promise<Set<string> | null> {
  const r = await run(
    'docker',
    ['compose', '-p', composeProject(cfg), '-f', cfg.composeFile, 'ps', '--status', 'running', '--services'],
    { timeoutMs: 15_000, cwd: cfg.repoRoot },
  );
  return r.code === 0
    ? new Set(
        r.out
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
      )
    : null;
}

async function probeMysql(cfg: InfraConfig, role: 'primary' | 'replica'): Promise<ComponentProbe> {
  const node = mysqlNode(cfg, role);
  if (!(await portOpen(node.port))) return { state: 'down' };
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysqlConnect({ host: HOST, port: node.port, user: APP_USER, password: APP_PASSWORD });
    const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT @@datadir AS datadir');
    const datadir = String(row.datadir);
    if (samePath(datadir, node.datadir)) return { state: 'up' };
    return { state: 'foreign', detail: `a server whose data directory is ${datadir}` };
  } catch {
    /* the app user cannot log in: ours only if our own socket reaches the server on this port */
  } finally {
    await closeQuietly(conn);
  }
  try {
    conn = await mysqlConnect({ socketPath: node.socket, user: 'root', password: '' });
    const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT @@port AS port');
    if (Number(row.port) === node.port) return { state: 'unhealthy' };
  } catch {
    /* not our socket */
  } finally {
    await closeQuietly(conn);
  }
  // our server still starting (it listens before root can log in), or a stranger
  if (ourPids(cfg, role).length) return { state: 'unhealthy' };
  return { state: 'foreign', detail: `a server that does not accept ${APP_USER}/${APP_PASSWORD}` };
}

async function probeRedis(cfg: InfraConfig): Promise<ComponentProbe> {
  const ping = await redisPing(cfg.ports.redis);
  if (ping === 'closed') return { state: (await portOpen(cfg.ports.redis)) ? 'foreign' : 'down' };
  if (ping === 'other') return { state: 'foreign', detail: 'something that does not answer PING' };
  const reply = await redisCommand(cfg.ports.redis, ['CONFIG', 'GET', 'dir']);
  const dir = reply && reply[0] === '*2' ? reply[4] : undefined;
  if (dir === undefined)
    return {
      state: 'foreign',
      detail: `a Redis that does not tell its directory (${reply?.[0] ?? 'no answer'})`,
    };
  if (!samePath(dir, redisPaths(cfg).dir)) return { state: 'foreign', detail: `a Redis running in ${dir}` };
  return { state: ping === 'pong' ? 'up' : 'unhealthy' };
}

async function probeMail(cfg: InfraConfig): Promise<ComponentProbe> {
  const open = await mailPorts(cfg);
  if (!open.smtp && !open.web) return { state: 'down' };
  let owner: string | undefined;
  if (open.web) {
    try {
      const res = await fetch(`http://${HOST}:${cfg.ports.mailWeb}/api/owner`, {
        signal: AbortSignal.timeout(1500),
      });
      if (res.ok) owner = String(((await res.json()) as { infraDir?: unknown }).infraDir ?? '');
    } catch {
      /* not our catcher */
    }
  }
  if (owner !== undefined && samePath(owner, cfg.localDir))
    return { state: open.smtp && open.web ? 'up' : 'unhealthy' };
  if (ourPids(cfg, 'mail').length) return { state: 'unhealthy' };
  const port = open.web ? cfg.ports.mailWeb : cfg.ports.smtp;
  return {
    state: 'foreign',
    detail: owner ? `the mail catcher of ${owner}` : `something else on ${HOST}:${port}`,
  };
}

/** Ownership and health of one component (see {@link ComponentState}). */
async function probe(
  cfg: InfraConfig,
  c: Component,
  compose?: () => Promise<Set<string> | null>,
): Promise<ComponentProbe> {
  if (compose && readEngine(cfg) === 'docker') {
    const open = await Promise.all(PORT_VARS[c].map((v) => portOpen(cfg.ports[v.key])));
    if (!open.some(Boolean)) return { state: 'down' };
    const running = await compose();
    if (!running?.has(COMPOSE_SERVICE[c]))
      return { state: 'foreign', detail: `not a container of compose project ${composeProject(cfg)}` };
    return { state: (await componentReady(cfg, c)) ? 'up' : 'unhealthy' };
  }
  switch (c) {
    case 'primary':
    case 'replica':
      return probeMysql(cfg, c);
    case 'redis':
      return probeRedis(cfg);
    case 'mail':
      return probeMail(cfg);
  }
}

/** Probes every component once (the compose project is asked at most once). */
async function probeAll(
  cfg: InfraConfig,
  want: readonly Component[],
): Promise<Record<Component, ComponentProbe>> {
  let services: Promise<Set<string> | null> | undefined;
  const compose = () => (services ??= composeRunning(cfg));
  const res = await Promise.all(want.map((c) => probe(cfg, c, compose)));
  return Object.fromEntries(want.map((c, i) => [c, res[i]])) as Record<Component, ComponentProbe>;
}

/** Ready for the app, whoever runs it (MySQL: the app user logs in; Redis: PONG; mail: SMTP + web listen). */
async function componentReady(cfg: InfraConfig, c: Component): Promise<boolean> {
  switch (c) {
    case 'primary':
      return shopLoginOk(cfg.ports.primary);
    case 'replica':
      return shopLoginOk(cfg.ports.replica);
    case 'redis':
      return (await redisPing(cfg.ports.redis)) === 'pong';
    case 'mail': {
      const m = await mailPorts(cfg);
      return m.smtp && m.web;
    }
  }
}

/**
 * Each component's state as this checkout sees it: `up` only for its own servers; a server that
 * another checkout or program runs on the port is `foreign` (see {@link ComponentState}).
 */
export async function infraStatus(): Promise<Record<Component, ComponentState>> {
  const probes = await infraProbe();
  return Object.fromEntries(COMPONENTS.map((c) => [c, probes[c].state])) as Record<Component, ComponentState>;
}

/** {@link infraStatus} with what was found on the ports of `foreign` components. */
export function infraProbe(only?: string[]): Promise<Record<Component, ComponentProbe>> {
  return probeAll(infraConfig(), resolveComponents(only));
}

/**
 * For commands that use the local infrastructure without starting it (seed, migration:run):
 * resolves when each component is this checkout's own server and ready; otherwise throws
 * ({@link ForeignServerError} for a server this checkout did not start).
 */
export async function assertOwnInfra(only: readonly Component[]): Promise<void> {
  if (!only.length) return;
  const cfg = infraConfig();
  const probes = await probeAll(cfg, only);
  const foreign = only.filter((c) => probes[c].state === 'foreign');
  if (foreign.length)
    throw new ForeignServerError(
      Object.fromEntries(foreign.map((c) => [c, probes[c]])),
      await suggestPorts(foreign, cfg),
    );
  const notUp = only.filter((c) => probes[c].state !== 'up');
  if (notUp.length)
    throw new Error(
      `the local ${notUp.map((c) => `${COMPOSE_SERVICE[c]} (${PORT_VARS[c].map((v) => `${HOST}:${cfg.ports[v.key]}`).join(', ')})`).join(', ')} ` +
        `${notUp.length > 1 ? 'are' : 'is'} not running: start ${notUp.length > 1 ? 'them' : 'it'} with \`npm run up\` or \`npm run infra:up\``,
    );
}

/** Free ports for the given components, near the defaults (for the message about a foreign server). */
export async function suggestPorts(
  components: readonly Component[],
  cfg = infraConfig(),
): Promise<Record<string, number>> {
  const taken = new Set(Object.values(cfg.ports));
  const out: Record<string, number> = {};
  for (const c of components)
    for (const v of PORT_VARS[c]) {
      for (let port = v.def + 10_000; port < v.def + 10_100; port++) {
        if (taken.has(port) || !(await canListen(port))) continue;
        taken.add(port);
        out[v.name] = port;
        break;
      }
    }
  return out;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** Thrown by infraUp when a port answers with a server this checkout did not start. */
export class ForeignServerError extends Error {
  constructor(
    readonly found: Partial<Record<Component, ComponentProbe>>,
    readonly suggested: Record<string, number>,
  ) {
    const lines = Object.entries(found).map(
      ([c, p]) =>
        `  ${COMPOSE_SERVICE[c as Component]}: ${PORT_VARS[c as Component].map((v) => `${HOST}:${infraConfig().ports[v.key]}`).join(', ')} ${PORT_VARS[c as Component].length > 1 ? 'are' : 'is'} taken by ${p!.detail ?? 'another process'}`,
    );
    const vars = Object.entries(suggested).map(([k, v]) => `${k}=${v}`);
    super(
      [
        'Ports of the local infrastructure are in use by servers this checkout did not start',
        '(another checkout of nest-commerce, or another program); they are left alone, and nothing',
        'of this checkout will run against them:',
        ...lines,
        vars.length
          ? `Give this checkout its own ports, e.g. in .env (or the environment):\n  ${vars.join('\n  ')}`
          : 'Give this checkout its own ports with the INFRA_* variables (README, "Configuration").',
        'or stop what runs there.',
      ].join('\n'),
    );
    this.name = 'ForeignServerError';
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB (local engine)
// ---------------------------------------------------------------------------------------------

export interface MysqlFlavor {
  kind: 'mariadb' | 'mysql';
  server: string;
  installDb: string | null;
  basedir: string | null;
  version: string;
}

export async function detectMysql(): Promise<MysqlFlavor | null> {
  const mariadbd = findBinary(['mariadbd']);
  const server = mariadbd ?? findBinary(['mysqld']);
  if (!server) return null;
  const v = await run(server, ['--no-defaults', '--version'], { timeoutMs: 10_000 });
  const version = v.out.trim().split('\n')[0] ?? '';
  const kind: MysqlFlavor['kind'] = mariadbd || /mariadb/i.test(v.out) ? 'mariadb' : 'mysql';
  // base dir of a tarball layout (<base>/bin/mysqld); the distro layout (/usr/sbin) needs none
  const binDir = path.dirname(fs.realpathSync(server));
  const base = path.dirname(binDir);
  const basedir =
    path.basename(binDir) === 'bin' && base !== '/usr' && fs.existsSync(path.join(base, 'share'))
      ? base
      : null;
  const installDb =
    kind === 'mariadb'
      ? findBinary(
          ['mariadb-install-db', 'mysql_install_db'],
          basedir ? [path.join(basedir, 'scripts'), path.join(basedir, 'bin')] : [],
        )
      : null;
  return { kind, server, installDb, basedir, version };
}

function mysqlServerArgs(flavor: MysqlFlavor, node: MysqlNode): string[] {
  const args = [
    '--no-defaults',
    ...(flavor.basedir ? [`--basedir=${flavor.basedir}`] : []),
    `--datadir=${node.datadir}`,
    `--socket=${node.socket}`,
    `--pid-file=${node.pidFile}`,
    `--log-error=${node.errorLog}`,
    `--tmpdir=${node.tmpdir}`,
    `--bind-address=${HOST}`,
    `--port=${node.port}`,
    '--skip-name-resolve',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    // UTC like deploy/mysql/*.cnf: the app reads DATETIMEs as UTC, including the ones the server
    // writes itself (CURRENT_TIMESTAMP defaults, NOW()).
    '--default-time-zone=+00:00',
    '--innodb-buffer-pool-size=128M',
    '--innodb-flush-log-at-trx-commit=2',
    '--sync-binlog=0',
    '--max-connections=500',
    '--max-allowed-packet=64M',
    `--server-id=${node.serverId}`,
    // file names kept stable: renaming the binlog/relay log of an existing datadir breaks GTID positions
    '--log-bin=binlog',
    '--binlog-format=ROW',
    `--relay-log=${path.join(node.dir, 'relay')}`,
    '--log-bin-trust-function-creators=1',
    ...(IS_ROOT ? ['--user=root'] : []),
  ];
  if (flavor.kind === 'mariadb') {
    args.push('--gtid-strict-mode=1', '--log-slave-updates=1', '--slave-net-timeout=10');
  } else {
    args.push(
      '--gtid-mode=ON',
      '--enforce-gtid-consistency=ON',
      '--log-replica-updates=ON',
      '--replica-net-timeout=10',
      '--mysqlx=OFF',
    );
  }
  if (node.name === 'replica') args.push('--read-only=1');
  args.push(...semiSyncArgs(flavor, node));
  return args;
}

/**
 * Semi-synchronous replication, as deploy/mysql/*.cnf ships it (docs/operations.md): the primary
 * commits a transaction, then waits until a replica has it in its relay log before the client
 * hears OK (AFTER_SYNC: lossless), so an acknowledged order survives the primary's death. With no
 * replica answering within the timeout the primary falls back to asynchronous replication and the
 * app says so (shop_db_semi_sync_active 0, a warning); it switches back once a replica catches up.
 * The timeout is short locally (INFRA_SEMI_SYNC_TIMEOUT_MS, 1000 ms): tests stop the replica.
 */
function semiSyncArgs(flavor: MysqlFlavor, node: MysqlNode): string[] {
  const raw = process.env.INFRA_SEMI_SYNC_TIMEOUT_MS;
  const timeoutMs = raw ? Number(raw) : 1000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new Error(`INFRA_SEMI_SYNC_TIMEOUT_MS=${raw} is not a positive integer (milliseconds)`);
  if (flavor.kind === 'mariadb')
    return node.name === 'replica'
      ? ['--rpl-semi-sync-slave-enabled=ON']
      : [
          '--rpl-semi-sync-master-enabled=ON',
          '--rpl-semi-sync-master-wait-point=AFTER_SYNC',
          `--rpl-semi-sync-master-timeout=${timeoutMs}`,
        ];
  return node.name === 'replica'
    ? ['--plugin-load-add=semisync_replica.so', '--rpl-semi-sync-replica-enabled=ON']
    : [
        '--plugin-load-add=semisync_source.so',
        '--rpl-semi-sync-source-enabled=ON',
        '--rpl-semi-sync-source-wait-point=AFTER_SYNC',
        `--rpl-semi-sync-source-timeout=${timeoutMs}`,
      ];
}

async function initDatadir(flavor: MysqlFlavor, node: MysqlNode, log: (l: string) => void): Promise<void> {
  const inProgress = path.join(node.dir, '.initializing');
  fs.mkdirSync(node.tmpdir, { recursive: true });
  // initialised = our marker, or (datadirs made before the marker existed) system tables without an unfinished init
  if (
    fs.existsSync(node.initMarker) ||
    (!fs.existsSync(inProgress) && fs.existsSync(path.join(node.datadir, 'mysql')))
  )
    return;
  // a half-initialised datadir (failed or interrupted run) is thrown away
  fs.rmSync(node.datadir, { recursive: true, force: true });
  fs.writeFileSync(inProgress, `${process.pid}\n`);
  const initLog = path.join(node.dir, 'init.log');
  log(`${node.label}: initialising ${node.datadir}`);
  const user = IS_ROOT ? ['--user=root'] : [];
  const basedir = flavor.basedir ? [`--basedir=${flavor.basedir}`] : [];
  let res: { code: number; out: string };
  if (flavor.kind === 'mariadb') {
    if (!flavor.installDb)
      throw new Error(
        `found ${flavor.server} but no mariadb-install-db / mysql_install_db; install the full mariadb-server package`,
      );
    res = await run(
      flavor.installDb,
      [
        '--no-defaults',
        ...basedir,
        `--datadir=${node.datadir}`,
        `--tmpdir=${node.tmpdir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        ...user,
      ],
      { timeoutMs: 180_000 },
    );
  } else {
    res = await run(
      flavor.server,
      [
        '--no-defaults',
        ...basedir,
        '--initialize-insecure',
        `--datadir=${node.datadir}`,
        `--tmpdir=${node.tmpdir}`,
        ...user,
      ],
      { timeoutMs: 180_000 },
    );
  }
  fs.writeFileSync(initLog, res.out);
  if (res.code !== 0)
    throw new Error(
      `${node.label}: initialising the datadir failed (exit ${res.code}); see ${initLog}:\n${tail(initLog)}`,
    );
  fs.writeFileSync(node.initMarker, `${flavor.version}\n${new Date().toISOString()}\n`);
  fs.rmSync(inProgress, { force: true });
}

async function startMysqld(
  flavor: MysqlFlavor,
  node: MysqlNode,
  log: (l: string) => void,
): Promise<mysql.Connection> {
  log(`${node.label}: starting ${path.basename(flavor.server)} on ${HOST}:${node.port}`);
  announceStart(node.name);
  const child = spawnDetached(flavor.server, mysqlServerArgs(flavor, node), node.stdoutLog, {
    cwd: node.dir,
  });
  if (child.pid) fs.writeFileSync(node.pidFile, `${child.pid}\n`);
  return waitMysqlRoot(node, exitWatch(child), 60_000);
}

/** Waits until root can log in through the socket (empty password), failing fast if the server died. */
async function waitMysqlRoot(
  node: MysqlNode,
  watch: { exited: () => string | null } | null,
  timeoutMs: number,
): Promise<mysql.Connection> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const died = watch?.exited();
    if (died)
      throw new Error(
        `${node.label}: server ${died} during startup; see ${node.errorLog}:\n${tail(node.errorLog)}`,
      );
    try {
      return await mysqlConnect({ socketPath: node.socket, user: 'root', password: '' });
    } catch (e) {
      last = errMsg(e);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${node.label}: not accepting root connections on ${node.socket} after ${timeoutMs / 1000}s (${last}); see ${node.errorLog}:\n${tail(node.errorLog)}`,
      );
    }
    await sleep(150);
  }
}

async function q(conn: mysql.Connection, sql: string): Promise<mysql.RowDataPacket[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
  return rows;
}

/** Per server, not replicated: no anonymous users; a `repl` account (on both, so either can be a source). */
async function localBootstrap(conn: mysql.Connection): Promise<void> {
  await q(conn, 'SET SESSION sql_log_bin = 0');
  for (const r of await q(conn, "SELECT Host AS h FROM mysql.user WHERE User = ''"))
    await q(conn, `DROP USER IF EXISTS ''@${conn.escape(r.h)}`);
  await q(conn, `CREATE USER IF NOT EXISTS '${REPL_USER}'@'%' IDENTIFIED BY '${REPL_PASSWORD}'`);
  await q(conn, `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${REPL_USER}'@'%'`);
  await q(conn, 'SET SESSION sql_log_bin = 1');
}

/** MariaDB >= 10.5.1 and MySQL >= 8.0.22 both accept the REPLICA forms (MySQL 8.4 only those). */
function replicaStatusRows(conn: mysql.Connection): Promise<mysql.RowDataPacket[]> {
  return q(conn, 'SHOW REPLICA STATUS');
}

async function configureReplication(
  conn: mysql.Connection,
  kind: MysqlFlavor['kind'],
  primaryPort: number,
  log: (l: string) => void,
): Promise<void> {
  const cur = (await replicaStatusRows(conn))[0];
  if (cur) {
    const host = cur.Master_Host ?? cur.Source_Host;
    const port = Number(cur.Master_Port ?? cur.Source_Port);
    if (host === HOST && port === primaryPort) return; // already configured: leave it alone
    log(`mysql-replica: primary moved to ${HOST}:${primaryPort}, re-pointing replication`);
    await q(conn, 'STOP REPLICA');
    // CHANGE MASTER is MariaDB's only form; MySQL 8.4 knows only CHANGE REPLICATION SOURCE.
    await q(
      conn,
      kind === 'mariadb'
        ? `CHANGE MASTER TO MASTER_HOST='${HOST}', MASTER_PORT=${primaryPort}, MASTER_USE_GTID=slave_pos`
        : `CHANGE REPLICATION SOURCE TO SOURCE_HOST='${HOST}', SOURCE_PORT=${primaryPort}, SOURCE_AUTO_POSITION=1`,
    );
    await q(conn, 'START REPLICA');
    return;
  }
  log(`mysql-replica: configuring GTID replication from ${HOST}:${primaryPort}`);
  if (kind === 'mariadb') {
    await q(
      conn,
      `CHANGE MASTER TO MASTER_HOST='${HOST}', MASTER_PORT=${primaryPort}, MASTER_USER='${REPL_USER}', MASTER_PASSWORD='${REPL_PASSWORD}', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos`,
    );
    await q(conn, 'START REPLICA');
  } else {
    await q(
      conn,
      `CHANGE REPLICATION SOURCE TO SOURCE_HOST='${HOST}', SOURCE_PORT=${primaryPort}, SOURCE_USER='${REPL_USER}', SOURCE_PASSWORD='${REPL_PASSWORD}', SOURCE_CONNECT_RETRY=1, SOURCE_AUTO_POSITION=1, GET_SOURCE_PUBLIC_KEY=1`,
    );
    await q(conn, 'START REPLICA');
  }
}

/** Replicated (on the primary, once replication runs): the app accounts and database. */
async function appBootstrap(conn: mysql.Connection): Promise<void> {
  for (const host of ['%', 'localhost', '127.0.0.1']) {
    await q(conn, `CREATE USER IF NOT EXISTS '${APP_USER}'@'${host}' IDENTIFIED BY '${APP_PASSWORD}'`);
    await q(conn, `GRANT ALL PRIVILEGES ON *.* TO '${APP_USER}'@'${host}' WITH GRANT OPTION`);
  }
  await q(
    conn,
    `CREATE DATABASE IF NOT EXISTS \`${APP_DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  );
}

/**
 * Makes read_only bind the app user on the replica. `GRANT ALL` includes READ_ONLY ADMIN (MariaDB) /
 * SUPER (MySQL), which bypass read_only, and a single write there breaks replication for good
 * (gtid_strict_mode: "out-of-order sequence number"). Replication admin (STOP/START REPLICA) still
 * works for the app user. INFRA_REPLICA_ALLOW_WRITES=1 keeps the plain GRANT ALL behaviour.
 */
async function enforceReplicaReadOnly(conn: mysql.Connection, kind: MysqlFlavor['kind']): Promise<void> {
  if (process.env.INFRA_REPLICA_ALLOW_WRITES === '1') return;
  if (kind === 'mysql') {
    await q(conn, 'SET GLOBAL super_read_only = ON'); // not persisted: bootstrap runs before it on each start
    return;
  }
  await q(conn, 'SET SESSION sql_log_bin = 0');
  for (const r of await q(conn, `SELECT Host AS h FROM mysql.user WHERE User = '${APP_USER}'`)) {
    await q(conn, `REVOKE READ_ONLY ADMIN ON *.* FROM '${APP_USER}'@${conn.escape(r.h)}`).catch(
      () => undefined,
    );
  }
  await q(conn, 'SET SESSION sql_log_bin = 1');
}

async function waitShopLogin(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await shopLoginOk(port)) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

async function replicationError(node: MysqlNode): Promise<string> {
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysqlConnect({ socketPath: node.socket, user: 'root', password: '' });
    const r = (await replicaStatusRows(conn))[0];
    if (!r) return 'replication not configured';
    const pick = (...k: string[]) => k.map((x) => r[x]).find((v) => v !== undefined);
    return `IO=${pick('Slave_IO_Running', 'Replica_IO_Running')} SQL=${pick('Slave_SQL_Running', 'Replica_SQL_Running')} ${pick('Last_IO_Error') || ''} ${pick('Last_SQL_Error') || ''}`.trim();
  } catch (e) {
    return errMsg(e);
  } finally {
    await closeQuietly(conn);
  }
}

interface Outcome {
  started: Component[];
  reused: Component[];
}

async function upMysqlLocal(
  cfg: InfraConfig,
  want: Component[],
  log: (l: string) => void,
  out: Outcome,
  probes: Record<Component, ComponentProbe>,
): Promise<void> {
  const nodes = (['primary', 'replica'] as const)
    .filter((r) => want.includes(r))
    .map((r) => mysqlNode(cfg, r));
  if (!nodes.length) return;

  // reuse our own servers; a port held by anything else never gets here (infraUp refuses it)
  const plan = new Map<MysqlNode, 'reuse' | 'start' | 'repair'>();
  for (const n of nodes) {
    const state = probes[n.name].state;
    if (state === 'up') plan.set(n, 'reuse');
    else if (state === 'unhealthy') plan.set(n, 'repair');
    else {
      const stale = ourPids(cfg, n.name);
      if (stale.length) {
        log(`${n.label}: a server of ours (pid ${stale.join(', ')}) runs but does not listen; stopping it`);
        await terminate(stale, 30_000);
      }
      plan.set(n, 'start');
    }
  }
  for (const n of nodes) if (plan.get(n) === 'reuse') out.reused.push(n.name);
  const todo = nodes.filter((n) => plan.get(n) !== 'reuse');
  if (!todo.length) return;

  const flavor = await detectMysql();
  if (!flavor) throw new Error(missingMessage('mysql'));
  log(`mysql: ${flavor.version || flavor.server}`);

  const conns = new Map<MysqlNode, mysql.Connection>();
  try {
    // datadirs initialised and servers started in parallel
    const results = await Promise.allSettled(
      todo.map(async (n) => {
        if (plan.get(n) === 'start') {
          await initDatadir(flavor, n, log);
          conns.set(n, await startMysqld(flavor, n, log));
        } else {
          conns.set(n, await waitMysqlRoot(n, null, 15_000));
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const primary = todo.find((n) => n.name === 'primary');
    const replica = todo.find((n) => n.name === 'replica');
    const pConn = primary ? conns.get(primary) : undefined;
    const rConn = replica ? conns.get(replica) : undefined;
    // 1. per-server accounts (repl must exist on the primary before the replica connects)
    if (pConn) await localBootstrap(pConn);
    if (rConn) {
      await localBootstrap(rConn);
      await configureReplication(rConn, flavor.kind, replicationSourcePort(cfg), log);
    }
    // 2. replicated: app accounts + database, created on the primary after replication runs
    if (primary && pConn && !(await shopLoginOk(primary.port))) {
      log(`mysql-primary: creating user ${APP_USER} and database ${APP_DATABASE}`);
      await appBootstrap(pConn);
    }
    const primaryUp = !!primary || (await portOpen(cfg.ports.primary));
    for (const n of todo) {
      // a replica whose primary is down cannot receive the app account yet: don't wait for it
      if (n.name === 'replica' && !primaryUp) {
        log('mysql-replica: started, but the primary is down; replication resumes when it is back');
      } else if (!(await waitShopLogin(n.port, n.name === 'replica' ? 20_000 : 5_000))) {
        const why = n.name === 'replica' ? ` (replication: ${await replicationError(n)})` : '';
        throw new Error(
          `${n.label}: user ${APP_USER} cannot log in on ${HOST}:${n.port}${why}; see ${n.errorLog}`,
        );
      }
      if (n.name === 'replica' && rConn) await enforceReplicaReadOnly(rConn, flavor.kind);
      out.started.push(n.name);
      log(`${n.label}: ready on ${HOST}:${n.port}`);
    }
  } finally {
    await Promise.all([...conns.values()].map((c) => closeQuietly(c)));
  }
}

// ---------------------------------------------------------------------------------------------
// Redis (local engine)
// ---------------------------------------------------------------------------------------------

/** The redis-server command line used by the local engine. */
export function redisServerCommand(cfg: InfraConfig = infraConfig()): { bin: string | null; args: string[] } {
  const r = redisPaths(cfg);
  return {
    bin: findBinary(['redis-server']),
    // prettier-ignore
    args: [
      '--port', String(cfg.ports.redis),
      '--bind', HOST,
      '--dir', r.dir,
      '--appendonly', 'yes',
      '--appendfsync', 'everysec',
      // The AOF is the durability; periodic RDB snapshots on top would only add forks that
      // write the whole dataset (and take CPU from everything else on a small machine).
      '--save', '',
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'yes',
      '--pidfile', r.pidFile,
      '--logfile', r.logFile,
    ],
  };
}

async function upRedisLocal(
  cfg: InfraConfig,
  log: (l: string) => void,
  out: Outcome,
  probe: ComponentProbe,
): Promise<void> {
  const port = cfg.ports.redis;
  if (probe.state === 'up' || probe.state === 'unhealthy') {
    // ours (an 'unhealthy' one is loading its AOF: the app's clients wait for it)
    out.reused.push('redis');
    return;
  }
  const cmd = redisServerCommand(cfg);
  if (!cmd.bin) throw new Error(missingMessage('redis'));
  const r = redisPaths(cfg);
  fs.mkdirSync(r.dir, { recursive: true });
  const stale = ourPids(cfg, 'redis');
  if (stale.length) await terminate(stale, 10_000);
  log(`redis: starting redis-server on ${HOST}:${port}`);
  announceStart('redis');
  // --daemonize yes: the launcher forks the server and exits 0; the server writes the pid file
  const child = spawnDetached(cmd.bin, cmd.args, r.stdoutLog, { cwd: r.dir });
  child.ref(); // keep this process alive until the launcher exits (it is unref'd otherwise)
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.once('error', () => resolve(-1));
  });
  if (code !== 0)
    throw new Error(
      `redis: redis-server exited with ${code}; see ${r.logFile}:\n${tail(r.logFile)}\n${tail(r.stdoutLog)}`,
    );
  const deadline = Date.now() + 20_000;
  while ((await redisPing(port)) !== 'pong') {
    if (Date.now() > deadline)
      throw new Error(
        `redis: not answering PING on ${HOST}:${port} after 20s; see ${r.logFile}:\n${tail(r.logFile)}`,
      );
    await sleep(100);
  }
  out.started.push('redis');
  log(`redis: ready on ${HOST}:${port}`);
}

// ---------------------------------------------------------------------------------------------
// mail catcher (local engine)
// ---------------------------------------------------------------------------------------------

async function upMailLocal(
  cfg: InfraConfig,
  log: (l: string) => void,
  out: Outcome,
  probe: ComponentProbe,
): Promise<void> {
  if (probe.state === 'up') {
    out.reused.push('mail');
    return;
  }
  const m = mailPaths(cfg);
  // ours but half up (one port only): restarted
  const stale = ourPids(cfg, 'mail');
  if (stale.length) await terminate(stale, 5000);
  fs.mkdirSync(m.dir, { recursive: true });
  const args = [
    ...(m.ts ? ['-r', require.resolve('ts-node/register/transpile-only')] : []),
    m.script,
    m.marker,
  ];
  log(`mail: starting the mail catcher (SMTP ${HOST}:${cfg.ports.smtp}, web ${HOST}:${cfg.ports.mailWeb})`);
  announceStart('mail');
  const child = spawnDetached(process.execPath, args, m.logFile, {
    cwd: cfg.repoRoot,
    env: {
      ...process.env,
      INFRA_SMTP_PORT: String(cfg.ports.smtp),
      INFRA_MAIL_WEB_PORT: String(cfg.ports.mailWeb),
      TS_NODE_TRANSPILE_ONLY: 'true',
      TS_NODE_COMPILER_OPTIONS: JSON.stringify({
        module: 'commonjs',
        target: 'es2022',
        esModuleInterop: true,
      }),
    },
  });
  if (child.pid) fs.writeFileSync(m.pidFile, `${child.pid}\n`);
  const watch = exitWatch(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const died = watch.exited();
    if (died) throw new Error(`mail: the mail catcher ${died}; see ${m.logFile}:\n${tail(m.logFile)}`);
    const s = await mailPorts(cfg);
    if (s.smtp && s.web) break;
    if (Date.now() > deadline)
      throw new Error(
        `mail: the mail catcher is not listening after 30s; see ${m.logFile}:\n${tail(m.logFile)}`,
      );
    await sleep(100);
  }
  out.started.push('mail');
  log(`mail: ready (smtp://${HOST}:${cfg.ports.smtp}, http://${HOST}:${cfg.ports.mailWeb})`);
}

// ---------------------------------------------------------------------------------------------
// Docker engine
// ---------------------------------------------------------------------------------------------

/** `docker compose` for this checkout's project (its own containers and volumes; ports from INFRA_*). */
function compose(cfg: InfraConfig): string[] {
  return ['compose', '-p', composeProject(cfg), '-f', cfg.composeFile];
}

export async function dockerAvailable(): Promise<boolean> {
  if (!findBinary(['docker'])) return false;
  return (await run('docker', ['info'], { timeoutMs: 3000 })).code === 0;
}

async function upDocker(
  cfg: InfraConfig,
  want: Component[],
  log: (l: string) => void,
  out: Outcome,
  probes: Record<Component, ComponentProbe>,
): Promise<void> {
  for (const c of want) if (probes[c].state === 'up') out.reused.push(c);
  const missing = want.filter((c) => probes[c].state !== 'up');
  if (!missing.length) return;
  const services = missing.map((c) => COMPOSE_SERVICE[c]);
  log(`docker: compose up -d ${services.join(' ')}`);
  missing.forEach(announceStart);
  const r = await run('docker', [...compose(cfg), 'up', '-d', ...services], {
    timeoutMs: 600_000,
    cwd: cfg.repoRoot,
  });
  if (r.code !== 0) throw new Error(`docker compose up failed (exit ${r.code}):\n${r.out.trim()}`);
  // the first start of a MySQL image initialises its datadir: allow a few minutes
  await Promise.all(
    missing.map(async (c) => {
      const timeoutMs = c === 'primary' || c === 'replica' ? 240_000 : 60_000;
      const deadline = Date.now() + timeoutMs;
      while (!(await componentReady(cfg, c))) {
        if (Date.now() > deadline)
          throw new Error(
            `${COMPOSE_SERVICE[c]} not ready after ${timeoutMs / 1000}s; see \`docker compose logs ${COMPOSE_SERVICE[c]}\``,
          );
        await sleep(500);
      }
      out.started.push(c);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// public API
// ---------------------------------------------------------------------------------------------

function missingMessage(what: 'mysql' | 'redis'): string {
  const found = what === 'mysql' ? 'No mariadbd or mysqld' : 'No redis-server';
  return [
    `${found} found (searched PATH, /usr/sbin, /usr/local/sbin, /usr/local/mysql/bin) and no Docker engine answered. Install one of:`,
    '  - MariaDB + Redis:  sudo apt-get install mariadb-server redis-server',
    '    (the system services are not needed: `sudo systemctl disable --now mariadb redis-server` is fine)',
    '  - MySQL 8.4 + Redis 7 (mysqld in PATH or /usr/local/mysql/bin, redis-server in PATH)',
    '  - Docker with the compose plugin (docker-compose.yml is used then)',
    'or point DB_PRIMARY_URL, DB_REPLICA_URLS, REDIS_URL and SMTP_URL at existing servers.',
  ].join('\n');
}

async function chooseEngine(cfg: InfraConfig, log: (l: string) => void): Promise<'docker' | 'local'> {
  const forced = (process.env.INFRA_ENGINE ?? '').toLowerCase();
  if (forced === 'docker' || forced === 'local') return forced;
  const recorded = readEngine(cfg);
  if (recorded) return recorded;
  if (await dockerAvailable()) {
    if (fs.existsSync(cfg.composeFile)) return 'docker';
    log(`docker answers but ${cfg.composeFile} is missing; using local binaries`);
  }
  return 'local';
}

const byComponentOrder = (a: Component, b: Component) => COMPONENTS.indexOf(a) - COMPONENTS.indexOf(b);

/** Starts (or reuses) the infrastructure. Idempotent; fast when everything already runs. */
export async function infraUp(opts: InfraUpOptions = {}): Promise<InfraUpResult> {
  const log = opts.log ?? (() => undefined);
  const cfg = infraConfig();
  let want = resolveComponents(opts.only);
  if (opts.mail === false) want = want.filter((c) => c !== 'mail');
  const scope = { onStart: opts.onStart, signal: opts.signal };
  return upScope.run(scope, () =>
    withLock(cfg, async () => {
      const probes = await probeAll(cfg, want);
      // Servers this checkout did not start are never used: say so before starting anything.
      const foreign = want.filter((c) => probes[c].state === 'foreign');
      if (foreign.length)
        throw new ForeignServerError(
          Object.fromEntries(foreign.map((c) => [c, probes[c]])),
          await suggestPorts(foreign, cfg),
        );
      if (want.every((c) => probes[c].state === 'up'))
        return {
          endpoints: infraEndpoints(cfg),
          started: [],
          reused: [...want],
          engine: readEngine(cfg) ?? 'local',
        };

      const out: Outcome = { started: [], reused: [] };
      const engine = await chooseEngine(cfg, log);
      if (engine === 'docker') {
        await upDocker(cfg, want, log, out, probes);
      } else {
        const tasks = [upMysqlLocal(cfg, want, log, out, probes)];
        if (want.includes('redis')) tasks.push(upRedisLocal(cfg, log, out, probes.redis));
        if (want.includes('mail')) tasks.push(upMailLocal(cfg, log, out, probes.mail));
        const errors = (await Promise.allSettled(tasks))
          .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
          .map((r) => errMsg(r.reason));
        if (errors.length) throw new Error(errors.join('\n'));
      }
      writeEngine(cfg, engine);
      return {
        endpoints: infraEndpoints(cfg),
        started: out.started.sort(byComponentOrder),
        reused: out.reused.sort(byComponentOrder),
        engine,
      };
    }),
  );
}

/** Stops what this script started (verified pids under .local/, or compose services); keeps the data unless purge. */
export async function infraDown(opts: InfraDownOptions = {}): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const cfg = infraConfig();
  const want = resolveComponents(opts.only);
  const all = want.length === COMPONENTS.length;
  if (!fs.existsSync(cfg.localDir)) {
    log('nothing to stop (no .local/)');
    return;
  }
  await withLock(cfg, async () => {
    if (readEngine(cfg) === 'docker') {
      const args = opts.purge && all ? ['down', '-v'] : ['stop', ...want.map((c) => COMPOSE_SERVICE[c])];
      log(`docker: compose ${args.join(' ')}`);
      const r = await run('docker', [...compose(cfg), ...args], {
        timeoutMs: 300_000,
        cwd: cfg.repoRoot,
      });
      if (r.code !== 0)
        throw new Error(`docker compose ${args[0]} failed (exit ${r.code}):\n${r.out.trim()}`);
    } else {
      const stopOne = async (c: Component) => {
        const pids = ourPids(cfg, c);
        const owned = ownedFor(cfg, c);
        if (!pids.length) log(`${c}: not running`);
        else {
          log(`${c}: stopping pid ${pids.join(', ')}`);
          if (!(await terminate(pids, c === 'primary' || c === 'replica' ? 60_000 : 15_000)))
            log(`${c}: no exit after SIGTERM, killed`);
        }
        for (const f of owned.pidFiles) fs.rmSync(f, { force: true });
      };
      // replica before primary (no reconnect noise); redis and the mail catcher meanwhile
      const mysqlInOrder = (async () => {
        if (want.includes('replica')) await stopOne('replica');
        if (want.includes('primary')) await stopOne('primary');
      })();
      await Promise.all([mysqlInOrder, ...want.filter((c) => c === 'redis' || c === 'mail').map(stopOne)]);
    }
    if (opts.purge) {
      const dirs = all
        ? fs
            .readdirSync(cfg.localDir)
            .filter((e) => e !== 'infra.lock')
            .map((e) => path.join(cfg.localDir, e))
        : want.map((c) =>
            c === 'primary' || c === 'replica'
              ? mysqlNode(cfg, c).dir
              : c === 'redis'
                ? redisPaths(cfg).dir
                : mailPaths(cfg).dir,
          );
      for (const c of want)
        if (c === 'primary' || c === 'replica') fs.rmSync(mysqlNode(cfg, c).socket, { force: true });
      log(`purging ${all ? cfg.localDir : dirs.join(', ')}`);
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
  if (opts.purge && all) fs.rmSync(cfg.localDir, { recursive: true, force: true });
}

// convenience wrappers for fault tests
export const stopRedis = (o: Omit<InfraDownOptions, 'only'> = {}) => infraDown({ ...o, only: ['redis'] });
export const startRedis = (o: Omit<InfraUpOptions, 'only'> = {}) => infraUp({ ...o, only: ['redis'] });
export const stopReplica = (o: Omit<InfraDownOptions, 'only'> = {}) => infraDown({ ...o, only: ['replica'] });
export const startReplica = (o: Omit<InfraUpOptions, 'only'> = {}) => infraUp({ ...o, only: ['replica'] });
export const stopPrimary = (o: Omit<InfraDownOptions, 'only'> = {}) => infraDown({ ...o, only: ['primary'] });
export const startPrimary = (o: Omit<InfraUpOptions, 'only'> = {}) => infraUp({ ...o, only: ['primary'] });
