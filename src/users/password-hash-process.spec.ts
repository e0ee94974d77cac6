import { readFileSync, readdirSync } from 'node:fs';
import { PasswordHashProcess } from './password-hash-process';
import { PASSWORD_HASH_OPTIONS, needsRehash } from './passwords';

/** Nice values of every thread of a process (Linux: field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19 - 3]);
  });
}

describe('PasswordHashProcess (argon2 in a niced child process)', () => {
  let p: PasswordHashProcess;
  afterEach(() => p?.close());

  it('hashes and verifies with the app parameters, in a child whose threads all run at the configured nice', async () => {
    p = new PasswordHashProcess({ nice: 10, threads: 1, taskTimeoutMs: 30_000 }, PASSWORD_HASH_OPTIONS);
    const hash = await p.hash('correct horse battery');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(needsRehash(hash)).toBe(false); // made with the app's parameters
    expect(await p.verify(hash, 'correct horse battery')).toBe(true);
    expect(await p.verify(hash, 'wrong horse')).toBe(false);
    expect(await p.verify(undefined, 'anything')).toBe(false); // unknown email: same work, false
    expect(await p.verify('not-a-hash', 'anything')).toBe(false);
    const pid = p.pid!;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    const nices = threadNices(pid);
    expect(nices.length).toBeGreaterThan(1); // the main thread and the libuv pool that ran argon2
    expect(new Set(nices)).toEqual(new Set([10]));
  });

  it('fails the tasks in flight when the child dies, and starts a new child for the next task', async () => {
    p = new PasswordHashProcess({ nice: 10, threads: 1, taskTimeoutMs: 30_000 }, PASSWORD_HASH_OPTIONS);
    await p.hash('warm up');
    const first = p.pid!;
    const inFlight = p.hash('in flight when the child dies');
    process.kill(first, 'SIGKILL');
    await expect(inFlight).rejects.toThrow(/exited/);
    expect(await p.verify(await p.hash('again'), 'again')).toBe(true);
    expect(p.pid).not.toBe(first);
  });

  it('fails a task that outlives its timeout, and refuses work after close', async () => {
    p = new PasswordHashProcess({ nice: 10, threads: 1, taskTimeoutMs: 1 }, PASSWORD_HASH_OPTIONS);
    await expect(p.hash('too slow for 1 ms')).rejects.toThrow(/more than 1 ms/);
    p.close();
    await expect(p.hash('after close')).rejects.toThrow(/stopped/);
  });
});
