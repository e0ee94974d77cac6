import { TimerLoop } from './timer-loop';

/** A pass that stays running until `finish()`; `passes()` counts the passes started. */
function gatedPass() {
  let passes = 0;
  let finish: () => void = () => undefined;
  const pass = () => {
    passes++;
    return new Promise<void>((resolve) => (finish = resolve));
  };
  return { pass, passes: () => passes, finish: () => finish() };
}

describe('TimerLoop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs a pass every delay after the previous one settled, one at a time, until stopped', async () => {
    const { pass, passes, finish } = gatedPass();
    const loop = new TimerLoop(pass, () => 1000);
    loop.start();
    await jest.advanceTimersByTimeAsync(999);
    expect(passes()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(passes()).toBe(1);
    await jest.advanceTimersByTimeAsync(5000);
    expect(passes()).toBe(1); // still running: no second pass
    finish();
    await jest.advanceTimersByTimeAsync(1000);
    expect(passes()).toBe(2);
    const stopped = loop.stop();
    finish();
    await stopped;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(passes()).toBe(2);
  });

  it('a nudge runs a pass now, or right after the running one', async () => {
    const { pass, passes, finish } = gatedPass();
    const loop = new TimerLoop(pass, () => 60_000);
    loop.start();
    loop.nudge();
    await jest.advanceTimersByTimeAsync(0);
    expect(passes()).toBe(1);
    loop.nudge();
    finish();
    await jest.advanceTimersByTimeAsync(0);
    expect(passes()).toBe(2);
    finish();
    await loop.stop();
  });
});
