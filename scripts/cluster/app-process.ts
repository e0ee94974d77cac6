/**
 * One application instance as a child process (`node -r ts-node/register/transpile-only
 * src/main.ts`, or `node dist/main.js`), with its role and ports in the environment: what
 * `npm run up:cluster` runs N+1 times and what test/cluster kills under load.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { createInterface } from 'readline';
import { ROOT } from '../infra/local-infra';

export type AppRole = 'api' | 'worker' | 'all';
/** ts: the sources through ts-node (always current, ~5 s to boot); dist: `npm run build` output. */
export type AppRuntime = 'ts' | 'dist';

export interface AppProcessOptions {
  name: string;
  role: AppRole;
  port: number;
  /** gRPC port (api/all); ignored by workers, which serve no gRPC */
  grpcPort: number;
  /** the instance's environment (PORT, GRPC_PORT and APP_ROLE are set from the options) */
  env: NodeJS.ProcessEnv;
  runtime?: AppRuntime;
  /** Output: every line to this callback, else appended to logFile, else discarded. */
  onLine?: (line: string) => void;
  logFile?: string;
  /**
   * An argument passed on the command line (the app ignores it) so that /proc tells our
   * instances from any other node process when a later run cleans up after a crashed one.
   */
  marker?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function appCommand(runtime: AppRuntime): string[] {
  return runtime === 'dist'
    ? [path.join(ROOT, 'dist', 'main.js')]
    : ['-r', require.resolve('ts-node/register/transpile-only'), path.join(ROOT, 'src', 'main.ts')];
}

export class AppProcess {
  readonly name: string;
  readonly role: AppRole;
  readonly port: number;
  readonly grpcPort: number;
  readonly url: string;
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private exit: ExitInfo | null = null;
  private readonly recent: string[] = [];

  constructor(private readonly opts: AppProcessOptions) {
    this.name = opts.name;
    this.role = opts.role;
    this.port = opts.port;
    this.grpcPort = opts.grpcPort;
    this.url = `http://127.0.0.1:${opts.port}`;
    const args = [...appCommand(opts.runtime ?? 'ts'), ...(opts.marker ? [opts.marker] : [])];
    // Its own process group: a Ctrl-C in the terminal reaches only the launcher, which then
    // stops the instances in order (nginx first, then api and worker, each draining).
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...opts.env,
        APP_ROLE: opts.role,
        PORT: String(opts.port),
        GRPC_PORT: String(opts.grpcPort),
      },
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', (err) => {
        this.recent.push(`spawn failed: ${err.message}`);
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    const { write, end } = this.sink();
    let open = 0;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      open++;
      const lines = createInterface({ input: stream });
      lines.on('line', (line) => {
        this.recent.push(line);
        if (this.recent.length > 40) this.recent.shift();
        write(line);
      });
      lines.once('close', () => --open === 0 && end());
    }
  }

  private sink(): { write: (line: string) => void; end: () => void } {
    if (this.opts.onLine) return { write: this.opts.onLine, end: () => undefined };
    if (!this.opts.logFile) return { write: () => undefined, end: () => undefined };
    fs.mkdirSync(path.dirname(this.opts.logFile), { recursive: true });
    const out = fs.createWriteStream(this.opts.logFile, { flags: 'a' });
    return { write: (line) => out.write(`${line}\n`), end: () => out.end() };
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** The last lines the instance printed (for error messages). */
  lastLines(n = 20): string {
    return this.recent.slice(-n).join('\n');
  }

  /** Waits until GET /health/ready answers 200; fails at once if the process exits. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit)
        throw new Error(
          `${this.name} exited (${this.exit.signal ?? `code ${this.exit.code}`}) before it was ready:\n${this.lastLines()}`,
        );
      try {
        const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name} not ready on ${this.url} after ${timeoutMs} ms:\n${this.lastLines()}`);
      await sleep(200);
    }
  }

  /** Sends a signal (SIGKILL by default: a crash, no drain). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM (the app drains within SHUTDOWN_TIMEOUT_MS), SIGKILL after graceMs. */
  async stop(graceMs = 20_000): Promise<ExitInfo> {
    if (!this.running) return this.exit!;
    this.kill('SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'timeout') this.kill('SIGKILL');
    return this.exited;
  }

  /** Synchronous last resort (process 'exit' handlers). */
  killNow(): void {
    this.kill('SIGKILL');
  }
}
