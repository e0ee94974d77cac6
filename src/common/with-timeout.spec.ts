import { withTimeout } from './with-timeout';

const never = new Promise<never>(() => undefined);
const busy = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* the event loop is blocked */
  }
};

describe('withTimeout', () => {
  it('passes the value or the error through', async () => {
    await expect(withTimeout(Promise.resolve(7), 100)).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('no')), 100)).rejects.toThrow('no');
  });

  it('gives up after the bound while the process is responsive', async () => {
    const started = Date.now();
    await expect(withTimeout(never, 100, 'probe')).rejects.toThrow('probe did not answer within 100 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('does not blame a blocked event loop on the callee: an answer read right after the stall wins', async () => {
    // The loop is blocked for 300 ms; when it runs again, the 100 ms timer is handled first, then
    // the answer (due at 150 ms). Without the extension the timer would reject before the answer.
    const answer = new Promise<string>((resolve) => setTimeout(() => resolve('late but there'), 150));
    const waiting = withTimeout(answer, 100, 'stalled');
    busy(300);
    await expect(waiting).resolves.toBe('late but there');
  });

  it('still gives up once after a stall when no answer comes', async () => {
    const waiting = withTimeout(never, 100, 'stalled');
    busy(300);
    await expect(waiting).rejects.toThrow('stalled did not answer within 100 ms');
  });
});
