import { BoundedConcurrency, ConcurrencyRefused } from './bounded-concurrency';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('BoundedConcurrency', () => {
  it('runs at most `limit` tasks at once and the waiting ones in arrival order', async () => {
    const b = new BoundedConcurrency(2, 10, 10_000);
    const gates = Array.from({ length: 5 }, deferred);
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      b.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect([b.active, b.queued]).toEqual([2, 3]);
    gates[1].resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect([b.active, b.queued]).toEqual([0, 0]);
  });

  it('refuses a caller beyond the queue at once, without running its task', async () => {
    const b = new BoundedConcurrency(1, 1, 10_000);
    const gate = deferred();
    const first = b.run(() => gate.promise);
    const second = b.run(() => Promise.resolve('second'));
    let ran = false;
    await expect(
      b.run(async () => {
        ran = true;
      }),
    ).rejects.toEqual(new ConcurrencyRefused('queue_full'));
    expect(ran).toBe(false);
    gate.resolve();
    await first;
    await expect(second).resolves.toBe('second');
  });

  it('refuses a caller whose wait runs out, and its slot is not lost', async () => {
    jest.useFakeTimers();
    try {
      const b = new BoundedConcurrency(1, 5, 100);
      const gate = deferred();
      const first = b.run(() => gate.promise);
      const late = b.run(() => Promise.resolve('late'));
      jest.advanceTimersByTime(101);
      await expect(late).rejects.toMatchObject({ reason: 'wait_timeout' });
      expect(b.queued).toBe(0);
      gate.resolve();
      await first;
      expect(b.active).toBe(0);
      await expect(b.run(() => Promise.resolve('next'))).resolves.toBe('next');
    } finally {
      jest.useRealTimers();
    }
  });

  it('frees the slot when a task throws', async () => {
    const b = new BoundedConcurrency(1, 0, 100);
    await expect(b.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(b.run(() => Promise.resolve(1))).resolves.toBe(1);
  });
});
