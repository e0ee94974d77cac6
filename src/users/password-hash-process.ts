import { ChildProcess, spawn } from 'node:child_process';
import { Logger } from '@nestjs/common';

/**
 * argon2 in a child process at a lower CPU priority (decision 0026).
 *
 * A login flood is argon2 work: bounded to PASSWORD_HASH_CONCURRENCY it still takes whole cores,
 * and at the same priority as everything else those cores are lost to the catalog, the orders and
 * the flash sale. In a child process niced to PASSWORD_HASH_NICE (10 by default) the kernel gives
 * the CPU to the app, MySQL and Redis first and hashing gets what they leave: a flood of wrong
 * passwords slows logins (bounded by the wait queue: 429 AUTH_BUSY), not the shop.
 *
 * The child is a tiny script (argon2 and the IPC loop, no TypeScript, no Nest), started on first
 * use and again after it dies; a task in flight when it dies fails (the caller answers 503), a
 * task that takes longer than `taskTimeoutMs` fails too. The child exits when the app does (its
 * IPC channel closes).
 */
const CHILD_SOURCE = (argon2Path: string, nice: number, threads: number) => `
'use strict';
// The libuv pool starts with the first argon2 call: as many threads as hashing slots.
process.env.UV_THREADPOOL_SIZE = '${threads}';
const os = require('node:os');
// Linux: the nice value is per thread. Every thread running now (this one, V8's platform
// threads) is reniced; the libuv pool threads (where argon2 runs) are created later, by this
// thread, and inherit it. Elsewhere the nice value is the process's.
try {
  let tids = [];
  try { tids = require('node:fs').readdirSync('/proc/self/task').map(Number); } catch {}
  if (tids.length) for (const tid of tids) os.setPriority(tid, ${nice});
  else os.setPriority(${nice});
} catch (err) { process.send({ id: 0, error: 'setPriority: ' + err.message }); }
const argon2 = require(${JSON.stringify(argon2Path)});
let dummy;
process.on('disconnect', () => process.exit(0));
process.on('message', async (m) => {
  try {
    let result;
    if (m.op === 'hash') result = await argon2.hash(m.password, m.options);
    else if (m.hash) result = await argon2.verify(m.hash, m.password).catch(() => false);
    else {
      // No stored hash: spend the same time, so unknown emails are not told apart by timing.
      dummy = dummy || argon2.hash('timing-equaliser-password', m.options);
      await argon2.verify(await dummy, m.password).catch(() => false);
      result = false;
    }
    process.send({ id: m.id, result });
  } catch (err) {
    process.send({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Why a hashing task failed for reasons of the process, not of the password. */
export class HashProcessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HashProcessError';
  }
}

export class PasswordHashProcess {
  private child?: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly options: { nice: number; threads: number; taskTimeoutMs: number },
    private readonly hashOptions: object,
    private readonly logger = new Logger('PasswordHashProcess'),
  ) {}

  /** The child's pid while it runs (tests, diagnostics). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  hash(password: string): Promise<string> {
    return this.call({ op: 'hash', password, options: this.hashOptions }) as Promise<string>;
  }

  verify(hash: string | undefined, password: string): Promise<boolean> {
    return this.call({ op: 'verify', hash, password, options: this.hashOptions }) as Promise<boolean>;
  }

  /** Stops the child; tasks still in flight fail. */
  close(): void {
    this.closed = true;
    this.failAll('password hashing stopped');
    this.child?.kill();
    this.child = undefined;
  }

  private call(message: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new HashProcessError('password hashing stopped'));
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HashProcessError(`password hashing took more than ${this.options.taskTimeoutMs} ms`));
      }, this.options.taskTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      child.send({ ...message, id }, (err) => {
        if (!err) return;
        const p = this.pending.get(id);
        if (!p) return;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new HashProcessError(`password hashing unavailable: ${err.message}`));
      });
    });
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(
      process.execPath,
      ['-e', CHILD_SOURCE(require.resolve('argon2'), this.options.nice, Math.max(1, this.options.threads))],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' },
    );
    child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      if (m.id === 0) {
        this.logger.warn(`argon2 runs at normal priority: ${m.error}`);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (!this.closed)
        this.logger.error(`password hashing process exited (${signal ?? code}); restarting on next use`);
      this.failAll('password hashing process exited');
    });
    child.on('error', (err) => this.logger.error(`password hashing process: ${err.message}`));
    // The app's shutdown does not wait for an idle child.
    child.unref();
    (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
    this.child = child;
    return child;
  }

  private failAll(reason: string): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new HashProcessError(reason));
      this.pending.delete(id);
    }
  }
}
