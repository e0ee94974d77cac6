/**
 * A private, unprivileged nginx for the local cluster (`npm run up:cluster`, test/cluster), the
 * way scripts/infra/local-infra.ts provides MariaDB and Redis: never the machine's own nginx
 * service, all state in a prefix folder under `.local/`.
 *
 * The binary: NGINX_BIN when set, else `nginx` from PATH (or /usr/sbin), else the Debian package
 * fetched WITHOUT root: `apt-get download nginx` + `dpkg-deb -x` into `.local/nginx-deb/`
 * (nginx 1.22 on bookworm: built with http_v2, which grpc_pass needs on the listening side).
 *
 * The config: deploy/nginx/nginx.conf.template rendered with local values (listen addresses,
 * one `server` line per instance, pid/log/temp paths inside the prefix); deploy/nginx/compose.conf
 * is the same template rendered for docker-compose.
 */
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { findBinary, infraConfig, portOpen, ROOT } from './local-infra';

export const NGINX_TEMPLATE = path.join(ROOT, 'deploy', 'nginx', 'nginx.conf.template');

/** Passive health check of each upstream server line (see the template for the reasoning). */
export const UPSTREAM_FAILURE_PARAMS = 'max_fails=1 fail_timeout=5s';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function run(bin: string, args: string[], cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd, timeout: 120_000, maxBuffer: 8 * 1024 * 1024 }, (err, stdout, stderr) => {
      const out = `${stdout ?? ''}${stderr ?? ''}`;
      if (!err) return resolve({ code: 0, out });
      const code = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      resolve({ code: code || 1, out: out || err.message });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// the binary
// ---------------------------------------------------------------------------------------------

export interface NginxBinary {
  bin: string;
  /** where it came from */
  source: 'NGINX_BIN' | 'PATH' | 'debian package (.local/nginx-deb)';
  version: string;
}

const debRoot = () => path.join(infraConfig().localDir, 'nginx-deb');
const debBinary = () => path.join(debRoot(), 'usr', 'sbin', 'nginx');

async function describe(bin: string): Promise<{ version: string; http2: boolean }> {
  const r = await run(bin, ['-V']);
  if (r.code !== 0) throw new Error(`${bin} -V failed (exit ${r.code}):\n${r.out.trim()}`);
  const version = /nginx version: nginx\/(\S+)/.exec(r.out)?.[1] ?? 'unknown';
  return { version, http2: r.out.includes('--with-http_v2_module') };
}

/** Downloads the distribution's nginx package and unpacks it under .local/ (no root needed). */
async function fetchDebianNginx(log: (l: string) => void): Promise<void> {
  const aptGet = findBinary(['apt-get']);
  const dpkgDeb = findBinary(['dpkg-deb']);
  if (!aptGet || !dpkgDeb)
    throw new Error(
      'nginx is not installed and this is not a Debian/Ubuntu system to fetch it from: install nginx ' +
        '(any 1.19.5+ built with http_v2, e.g. `brew install nginx`, `dnf install nginx`) or set NGINX_BIN',
    );
  const localDir = infraConfig().localDir;
  // a private work folder: two runs fetching at once never see each other's half-unpacked files
  const work = fs.mkdtempSync(path.join(localDir, 'nginx-deb.tmp-'));
  try {
    log(`nginx: not installed; fetching the distribution package (apt-get download nginx) into ${localDir}`);
    const dl = await run(aptGet, ['download', 'nginx'], work);
    const deb = fs.readdirSync(work).find((f) => /^nginx_.*\.deb$/.test(f));
    if (dl.code !== 0 || !deb)
      throw new Error(
        `apt-get download nginx failed (exit ${dl.code}); run \`sudo apt-get update\` or install nginx ` +
          `(sudo apt-get install nginx; the service itself is not needed):\n${dl.out.trim()}`,
      );
    const unpacked = path.join(work, 'root');
    const x = await run(dpkgDeb, ['-x', path.join(work, deb), unpacked]);
    if (x.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed (exit ${x.code}):\n${x.out.trim()}`);
    try {
      fs.renameSync(unpacked, debRoot());
    } catch (e) {
      // another run unpacked it first: use theirs
      if (!fs.existsSync(debBinary())) throw e;
    }
    log(`nginx: unpacked ${deb} into ${debRoot()}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Finds (or fetches) an nginx binary with HTTP/2 support. */
export async function ensureNginx(log: (l: string) => void = () => undefined): Promise<NginxBinary> {
  let bin: string;
  let source: NginxBinary['source'];
  const onPath = findBinary(['nginx']);
  if (process.env.NGINX_BIN) [bin, source] = [process.env.NGINX_BIN, 'NGINX_BIN'];
  else if (onPath) [bin, source] = [onPath, 'PATH'];
  else {
    if (!fs.existsSync(debBinary())) await fetchDebianNginx(log);
    [bin, source] = [debBinary(), 'debian package (.local/nginx-deb)'];
  }
  const d = await describe(bin);
  if (!d.http2)
    throw new Error(
      `${bin} (nginx ${d.version}) is built without http_v2: grpc_pass needs it; set NGINX_BIN`,
    );
  return { bin, source, version: d.version };
}

// ---------------------------------------------------------------------------------------------
// the config
// ---------------------------------------------------------------------------------------------

export interface NginxConfValues {
  HTTP_LISTEN: string;
  GRPC_LISTEN: string;
  HTTP_UPSTREAMS: string;
  GRPC_UPSTREAMS: string;
  PID_FILE: string;
  LOG_DIR: string;
  TEMP_DIR: string;
}

/** Replaces every {{NAME}} of the template; fails on a placeholder left without a value. */
export function renderNginxConf(
  values: NginxConfValues,
  template = fs.readFileSync(NGINX_TEMPLATE, 'utf8'),
): string {
  let out = template;
  for (const [k, v] of Object.entries(values)) out = out.split(`{{${k}}}`).join(v);
  const left = /\{\{[A-Z_]+\}\}/.exec(out);
  if (left) throw new Error(`nginx template: placeholder ${left[0]} has no value`);
  return out;
}

/** `server host:port max_fails=1 fail_timeout=5s;` lines, indented for the upstream block. */
export const upstreamLines = (addresses: string[]): string =>
  addresses.map((a) => `    server ${a} ${UPSTREAM_FAILURE_PARAMS};`).join('\n');

export interface NginxOptions {
  /** Prefix folder (config, pid, logs, temp); created when missing. */
  prefix: string;
  host?: string;
  httpPort: number;
  grpcPort: number;
  /** host:port of each instance's HTTP listener */
  httpUpstreams: string[];
  /** host:port of each instance's gRPC listener */
  grpcUpstreams: string[];
  log?: (line: string) => void;
}

export interface NginxPaths {
  prefix: string;
  conf: string;
  pidFile: string;
  logDir: string;
  accessLog: string;
  errorLog: string;
  stdoutLog: string;
  tempDir: string;
}

export function nginxPaths(prefix: string): NginxPaths {
  const p = path.resolve(prefix);
  const logDir = path.join(p, 'logs');
  return {
    prefix: p,
    conf: path.join(p, 'nginx.conf'),
    pidFile: path.join(p, 'nginx.pid'),
    logDir,
    accessLog: path.join(logDir, 'access.log'),
    errorLog: path.join(logDir, 'error.log'),
    stdoutLog: path.join(logDir, 'stdout.log'),
    tempDir: path.join(p, 'temp'),
  };
}

/** Writes the rendered config into the prefix and returns its paths. */
export function writeNginxConf(opts: NginxOptions): NginxPaths {
  const p = nginxPaths(opts.prefix);
  const host = opts.host ?? '127.0.0.1';
  for (const d of [p.prefix, p.logDir, p.tempDir]) fs.mkdirSync(d, { recursive: true });
  const conf = renderNginxConf({
    HTTP_LISTEN: `${host}:${opts.httpPort}`,
    GRPC_LISTEN: `${host}:${opts.grpcPort}`,
    HTTP_UPSTREAMS: upstreamLines(opts.httpUpstreams),
    GRPC_UPSTREAMS: upstreamLines(opts.grpcUpstreams),
    PID_FILE: p.pidFile,
    LOG_DIR: p.logDir,
    TEMP_DIR: p.tempDir,
  });
  fs.writeFileSync(
    p.conf,
    `# GENERATED by scripts/infra/nginx.ts from deploy/nginx/nginx.conf.template; rewritten on every start.\n${conf}`,
  );
  return p;
}

// ---------------------------------------------------------------------------------------------
// the process
// ---------------------------------------------------------------------------------------------

export interface NginxInstance {
  pid: number;
  binary: NginxBinary;
  paths: NginxPaths;
  /** e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** host:port of the h2c gRPC listener */
  grpcAddress: string;
  running: () => boolean;
  /** Resolves when the master process has exited. */
  exited: Promise<void>;
  /** Graceful stop (SIGQUIT: in-flight requests finish), SIGKILL of the group after graceMs. */
  stop: (graceMs?: number) => Promise<void>;
}

function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An nginx master left behind by an earlier run with this prefix (verified through /proc). */
function staleMaster(p: NginxPaths): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(p.pidFile, 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return null;
  try {
    // the master rewrites its title to "nginx: master process <bin> -p ... -c <conf> ..."
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmd.includes('nginx') && cmd.includes(p.conf) ? pid : null;
  } catch {
    return null; // no /proc: never signal a pid we cannot verify
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal); // master and workers: spawned detached, so one process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

/**
 * Renders the config into the prefix, checks it with `nginx -t`, and runs nginx in the
 * foreground (`daemon off;`, its own process group) until stop().
 */
export async function startNginx(opts: NginxOptions): Promise<NginxInstance> {
  const log = opts.log ?? (() => undefined);
  const host = opts.host ?? '127.0.0.1';
  const binary = await ensureNginx(log);
  const p = writeNginxConf(opts);
  const stale = staleMaster(p);
  if (stale) {
    log(`nginx: stopping pid ${stale} left by an earlier run`);
    signalGroup(stale, 'SIGQUIT');
    if (!(await waitGone(stale, 5000))) signalGroup(stale, 'SIGKILL');
  }
  for (const port of [opts.httpPort, opts.grpcPort])
    if (await portOpen(port, host))
      throw new Error(`nginx: ${host}:${port} is taken by another process; choose another port`);

  // -p: relative paths; -e: the startup error log (nginx >= 1.19.5), before the config is read
  const args = ['-p', `${p.prefix}/`, '-c', p.conf, '-e', p.errorLog];
  const check = await run(binary.bin, [...args, '-t', '-q']);
  if (check.code !== 0) throw new Error(`nginx -t failed for ${p.conf}:\n${check.out.trim()}`);

  const fd = fs.openSync(p.stdoutLog, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary.bin, [...args, '-g', 'daemon off;'], { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  let exited: string | null = null;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.once('error', (e) => {
      exited = `failed to start: ${e.message}`;
      resolve();
    });
  });
  const pid = child.pid ?? 0;

  const stop = async (graceMs = 10_000) => {
    if (exited || !pid) return;
    signalGroup(pid, 'SIGQUIT');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([gone, timer])) === 'timeout') {
      signalGroup(pid, 'SIGKILL');
      await gone;
    }
    // a worker still finishing a request after the master left: same group, same fate
    signalGroup(pid, 'SIGKILL');
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited)
      throw new Error(`nginx ${exited}; see ${p.errorLog}:\n${tail(p.errorLog)}\n${tail(p.stdoutLog)}`);
    if ((await portOpen(opts.httpPort, host)) && (await portOpen(opts.grpcPort, host))) break;
    if (Date.now() > deadline) {
      await stop(1000);
      throw new Error(`nginx is not listening after 10s; see ${p.errorLog}:\n${tail(p.errorLog)}`);
    }
    await sleep(50);
  }
  log(
    `nginx ${binary.version} (${binary.source}): HTTP ${host}:${opts.httpPort}, gRPC ${host}:${opts.grpcPort}`,
  );
  return {
    pid,
    binary,
    paths: p,
    httpUrl: `http://${host}:${opts.httpPort}`,
    grpcAddress: `${host}:${opts.grpcPort}`,
    running: () => !exited,
    exited: gone,
    stop,
  };
}
