import pino from 'pino';
import { Writable } from 'node:stream';
import { requestContext } from '../../common/context/request-context';
import { requestIdMixin } from './logger.module';

/** A pino logger with the app's mixin, writing JSON lines into an array. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().trim().split('\n'));
      cb();
    },
  });
  return { logger: pino({ mixin: requestIdMixin }, stream), lines };
}

/** How many times `key` appears as a key of the line's top-level JSON object. */
const keyCount = (line: string, key: string) => line.split(`"${key}":`).length - 1;

describe('pino request id mixin', () => {
  it('writes the request id of the current unit of work (request, gRPC call or job) on every line', () => {
    const { logger, lines } = capture();
    requestContext.run({ requestId: 'req-from-producer' }, () => logger.warn('job failed'));
    expect(JSON.parse(lines[0])).toMatchObject({ requestId: 'req-from-producer', msg: 'job failed' });
  });

  it('writes no request id outside any unit of work', () => {
    const { logger, lines } = capture();
    logger.info('booting');
    expect(JSON.parse(lines[0]).requestId).toBeUndefined();
  });

  it("writes the key once on pino-http's request logger, which already binds it", () => {
    const { logger, lines } = capture();
    const reqLog = logger.child({ requestId: 'req-1' });
    requestContext.run({ requestId: 'req-1' }, () => {
      reqLog.info('in a request');
      logger.child({ context: 'x' }).info('other child');
    });
    expect(keyCount(lines[0], 'requestId')).toBe(1);
    expect(JSON.parse(lines[0]).requestId).toBe('req-1');
    expect(keyCount(lines[1], 'requestId')).toBe(1);
    expect(JSON.parse(lines[1]).requestId).toBe('req-1');
  });
});
