import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';

/** @bufbuild/buf's `bin/buf`: a node launcher for the prebuilt binary of this platform. */
export const BUF = join(dirname(require.resolve('@bufbuild/buf/package.json')), 'bin', 'buf');

export interface BufResult {
  /** Exit code; for a failed RPC `buf curl` exits with the gRPC status code shifted left by 3. */
  code: number;
  stdout: string;
  stderr: string;
}

export interface BufRun {
  /** Everything printed to stdout so far. */
  stdout: () => string;
  done: Promise<BufResult>;
}

/**
 * Runs `buf <args>` without blocking the event loop (the server under test lives in this process).
 * It runs in a process group of its own so the timeout also stops the binary the launcher started.
 */
export function startBuf(
  args: string[],
  opts: { stdin?: string; cwd?: string; timeoutMs?: number } = {},
): BufRun {
  const child = spawn(process.execPath, [BUF, ...args], {
    cwd: opts.cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.stdin ?? '');
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${opts.timeoutMs ?? 30000} ms]`;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }, opts.timeoutMs ?? 30000);
  const done = new Promise<BufResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), stdout, stderr });
    });
  });
  return { stdout: () => stdout, done };
}

export const buf = (args: string[], opts: { stdin?: string; cwd?: string; timeoutMs?: number } = {}) =>
  startBuf(args, opts).done;

/** Splits what buf curl prints for a stream (one pretty-printed JSON document per message). */
export function jsonDocuments(text: string): any[] {
  const docs: any[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  return docs;
}
