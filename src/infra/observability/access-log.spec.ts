import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { AppConfig } from '../config/app-config';
import { AccessLog } from './access-log';
import { logDestination, requestIdMixin } from './logger.module';

describe('AccessLog', () => {
  const written: string[] = [];
  let spy: jest.SpyInstance;
  const root = PinoLogger as unknown as { root: unknown };
  const saved = root.root;
  beforeAll(() => {
    spy = jest
      .spyOn(logDestination() as unknown as { write: (s: string) => boolean }, 'write')
      .mockImplementation((s: string) => (written.push(s), true));
  });
  afterAll(() => {
    spy.mockRestore();
    root.root = saved;
  });

  it("writes byte for byte the line pino writes for the same fields (pino-http's access line)", () => {
    const lines: string[] = [];
    const capture = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    root.root = pino({ level: 'info', mixin: requestIdMixin }, capture);
    const log = new AccessLog({ httpLog: true } as AppConfig);
    const url = '/api/v1/products/x?q="a b"&ü=1';
    log.record('GET', url, 200, 2.6, 'req-1');
    (root.root as pino.Logger).info(
      { requestId: 'req-1', req: { method: 'GET', url }, res: { statusCode: 200 }, responseTime: 3 },
      'request completed',
    );
    const norm = (l: string) => l.replace(/"time":\d+/, '"time":0');
    expect(written).toHaveLength(1);
    expect(norm(written[0])).toBe(norm(lines[0]));
  });

  it('writes nothing with HTTP_LOG off, below info, or for health probes', () => {
    written.length = 0;
    root.root = pino({ level: 'warn' });
    new AccessLog({ httpLog: true } as AppConfig).record('GET', '/api/v1/cart', 200, 1, 'r');
    root.root = pino({ level: 'info' });
    new AccessLog({ httpLog: false } as AppConfig).record('GET', '/api/v1/cart', 200, 1, 'r');
    new AccessLog({ httpLog: true } as AppConfig).record('GET', '/health/ready', 200, 1, 'r');
    expect(written).toHaveLength(0);
  });
});
