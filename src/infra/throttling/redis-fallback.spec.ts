import { Logger } from '@nestjs/common';
import { RedisFallback } from './redis-fallback';

describe('RedisFallback', () => {
  it('answers from Redis, falls back while it fails, and logs each switch once', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    const fallback = new RedisFallback('Test', 'test hits');
    const down = () => Promise.reject(new Error('ECONNREFUSED'));

    expect(
      await fallback.run(
        () => Promise.resolve('redis'),
        () => 'local',
      ),
    ).toBe('redis');
    expect(await fallback.run(down, () => 'local')).toBe('local');
    expect(await fallback.run(down, () => 'local')).toBe('local');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      'test hits counted in this process only while Redis is unreachable (ECONNREFUSED)',
    );
    expect(
      await fallback.run(
        () => Promise.resolve('redis'),
        () => 'local',
      ),
    ).toBe('redis');
    expect(log).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith('test hits counted in Redis again');
    warn.mockRestore();
    log.mockRestore();
  });
});
