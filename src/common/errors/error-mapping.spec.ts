import { status as GrpcStatus } from '@grpc/grpc-js';
import { TimeoutError, withTimeout } from '../with-timeout';
import { UnavailableError } from './domain-error';
import { dependencyOf, isUnavailableError, mapError } from './error-mapping';

describe('mapError: a dependency that does not answer is 503 UNAVAILABLE naming it', () => {
  it.each([
    ['ioredis command past REDIS_COMMAND_TIMEOUT_MS', new Error('Command timed out'), 'redis'],
    [
      'ioredis connection replaced, no offline queue',
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      'redis',
    ],
    ['ioredis connection closed', new Error('Connection is closed.'), 'redis'],
    [
      'Redis Cluster: redirections not followed during a failover',
      new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'),
      'redis',
    ],
    ['Redis Cluster: slot without a master', new Error('CLUSTERDOWN The cluster is down'), 'redis'],
    ['Redis Cluster: slot moved under a pipeline', new Error('MOVED 5611 127.0.0.1:41367'), 'redis'],
    [
      'Redis Cluster: keys migrating',
      new Error('TRYAGAIN Multiple keys request during rehashing of slot'),
      'redis',
    ],
    [
      'Redis Cluster: write to a demoted master',
      new Error("READONLY You can't write against a read only replica."),
      'redis',
    ],
    [
      'ioredis retries exhausted',
      Object.assign(new Error('Reached the max retries per request limit'), {
        name: 'MaxRetriesPerRequestError',
      }),
      'redis',
    ],
    [
      'a bounded wait told its dependency',
      new TimeoutError('Redis PUBLISH did not answer within 5 ms', 'redis'),
      'redis',
    ],
    [
      'mysql2 statement past DB_QUERY_TIMEOUT_MS (TypeORM wraps it)',
      Object.assign(new Error('Query inactivity timeout'), {
        driverError: Object.assign(new Error('Query inactivity timeout'), {
          code: 'PROTOCOL_SEQUENCE_TIMEOUT',
        }),
      }),
      'mysql',
    ],
    [
      'mysql2 connection refused',
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:3306'), { code: 'ECONNREFUSED', fatal: true }),
      'mysql',
    ],
    [
      'a domain error naming its dependency',
      new UnavailableError('The mail queue is unavailable', 'UNAVAILABLE', 'redis'),
      'redis',
    ],
  ])('%s', (_what, err, dependency) => {
    expect(isUnavailableError(err) || err instanceof UnavailableError).toBe(true);
    expect(dependencyOf(err) ?? (mapError(err).details as { dependency?: string })?.dependency).toBe(
      dependency,
    );
    expect(mapError(err)).toMatchObject({
      status: 503,
      grpc: GrpcStatus.UNAVAILABLE,
      code: 'UNAVAILABLE',
      details: { dependency },
      internal: false,
    });
  });

  it('says nothing about the dependency when it cannot be told, and nothing that is not unavailable becomes 503', () => {
    const bare = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(mapError(bare)).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(mapError(bare).details).toBeUndefined();
    expect(mapError(new Error('boom'))).toMatchObject({
      status: 500,
      code: 'INTERNAL_ERROR',
      internal: true,
    });
  });

  it('withTimeout rejects with a TimeoutError (ETIMEDOUT) once the bound passes, and passes results through before', async () => {
    await expect(withTimeout(Promise.resolve(7), 50, 'x')).resolves.toBe(7);
    const never = new Promise<never>(() => undefined);
    const err = await withTimeout(never, 5, 'Redis GET', 'redis').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({
      code: 'ETIMEDOUT',
      dependency: 'redis',
      message: 'Redis GET did not answer within 5 ms',
    });
  });
});
