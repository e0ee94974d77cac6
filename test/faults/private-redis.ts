import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

import { freePort } from '../../scripts/lib/net';

/**
 * A redis-server of this test alone (own port, own directory), durable like production's:
 * AOF with fsync on every write, no eviction. It can be SIGKILLed and started again on the
 * same directory, which replays the AOF. The shared Redis of the test run is never touched.
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'nc-fault-redis-'));
  port = 0;
  private child?: ChildProcess;
  private readonly copies: string[] = [];

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    // prettier-ignore
    const args = [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction',
      '--save', '', '--daemonize', 'no',
    ];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const probe = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const deadline = Date.now() + 20_000;
    try {
      for (;;) {
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch {
          /* not up yet (or loading the AOF) */
        }
        if (Date.now() > deadline) throw new Error(`private redis-server on ${this.port} did not start`);
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL: no shutdown, no final fsync; what was acknowledged is in the AOF already. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /**
   * A copy of the data directory (the AOF) as it is now: with fsync on every write, every write
   * acknowledged so far. Take it while the server is quiet; a half-written last command would be
   * dropped on load (aof-load-truncated), like a crash would.
   */
  snapshot(): string {
    const copy = mkdtempSync(join(tmpdir(), 'nc-fault-redis-copy-'));
    cpSync(this.dir, copy, { recursive: true });
    this.copies.push(copy);
    return copy;
  }

  /**
   * Replaces the data directory with an older `snapshot()` (the server must be stopped): started
   * again, it comes back with every write made after the copy lost — an AOF restored from a
   * backup, or (the same data loss) a replica promoted while behind.
   */
  restoreFrom(copy: string): void {
    for (const f of readdirSync(this.dir)) rmSync(join(this.dir, f), { recursive: true, force: true });
    cpSync(copy, this.dir, { recursive: true });
  }

  async stop(): Promise<void> {
    await this.kill();
    for (const d of [this.dir, ...this.copies]) rmSync(d, { recursive: true, force: true });
  }
}
