import { LocalLockBudget } from './lock-budget';

/** The in-process twin of the Redis script (the fallback while Redis is unreachable). */
describe('LocalLockBudget', () => {
  it('grants no more places than the threshold, counting checks in flight, and reports the lock once', () => {
    const b = new LocalLockBudget();
    const granted = Array.from({ length: 10 }, () => b.reserve('acct', 3, 60_000).granted);
    expect(granted).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect([b.fail('acct', 3, 60_000), b.fail('acct', 3, 60_000), b.fail('acct', 3, 60_000)]).toEqual([
      false,
      false,
      true,
    ]);
    const refused = b.reserve('acct', 3, 60_000);
    expect(refused).toEqual({ granted: false, retryAfterSeconds: 60 });
  });

  it('a success forgets the failures (checks still in flight keep their places); a release gives one back', () => {
    const b = new LocalLockBudget();
    for (let i = 0; i < 3; i++) b.reserve('acct', 3, 60_000);
    b.fail('acct', 3, 60_000);
    b.succeed('acct');
    // One check still in flight: two places are free again.
    expect([b.reserve('acct', 3, 60_000).granted, b.reserve('acct', 3, 60_000).granted]).toEqual([
      true,
      true,
    ]);
    expect(b.reserve('acct', 3, 60_000).granted).toBe(false);
    b.release('acct');
    expect(b.reserve('acct', 3, 60_000).granted).toBe(true);
  });

  it('starts again when the window has passed, and clear() forgets everything', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const b = new LocalLockBudget();
      b.reserve('acct', 1, 1000);
      expect(b.reserve('acct', 1, 1000).granted).toBe(false);
      jest.setSystemTime(1001);
      expect(b.reserve('acct', 1, 1000).granted).toBe(true);
      b.clear('acct');
      expect(b.reserve('acct', 1, 1000).granted).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
