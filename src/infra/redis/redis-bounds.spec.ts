import net from 'node:net';
import Redis from 'ioredis';
import { dependencyOf, isUnavailableError } from '../../common/errors/error-mapping';
import { RedisService } from './redis.service';

/**
 * The command bounds of decision 0014 against a stand-in server on a local port (no Redis needed)
 * that answers +OK to every command until told to fall silent: it keeps accepting connections
 * and reading, but never answers (a Redis stuck on a fork, a partition).
 */
describe('RedisService.commandBounds against a server that stops answering', () => {
  let server: net.Server;
  let port: number;
  const sockets = new Set<net.Socket>();
  let answering = true;
  let received = '';
  beforeAll(async () => {
    server = net.createServer((s) => {
      sockets.add(s);
      s.on('data', (d) => {
        const text = d.toString();
        received += text;
        const commands = text.match(/(^|\r\n)\*\d+\r\n/g)?.length ?? 0;
        if (answering) s.write('+OK\r\n'.repeat(commands));
      });
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  const until = async (ok: () => Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 25));
  };

  it('fails a command after the bound as unavailable (redis), replaces the silent connection, and never re-sends what timed out', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port,
      enableReadyCheck: false, // the stand-in does not speak INFO
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
      ...RedisService.commandBounds(100),
    });
    client.on('error', () => undefined);
    try {
      // A connected client, then the server falls silent. On a loaded machine (CI runs the unit
      // suites in parallel) the connection can still drop between the PING and the SET: the SET
      // then fails at once, unsent ("Stream isn't writeable"), and the step is taken again.
      let err: unknown;
      for (let attempt = 0; attempt < 5; attempt++) {
        answering = true;
        await until(async () => (await client.ping().catch(() => '')) === 'OK');
        answering = false;
        err = await client.set('k', 'first-write').catch((e: unknown) => e);
        if (!/Stream isn't writeable/.test((err as Error).message)) break;
      }
      expect((err as Error).message).toBe('Command timed out');
      expect(isUnavailableError(err)).toBe(true);
      expect(dependencyOf(err)).toBe('redis');
      // The connection that heard nothing is destroyed and replaced (socketTimeout); meanwhile
      // commands fail at once as unavailable instead of each waiting out the bound.
      await new Promise((r) => client.once('reconnecting', r));
      const meanwhile = await client.get('k').catch((e: unknown) => e);
      expect(isUnavailableError(meanwhile)).toBe(true);
      // The server answers again: a new connection serves, without anyone restarting anything.
      answering = true;
      await until(async () => (await client.ping().catch(() => '')) === 'OK');
      expect(await client.get('k')).toBe('OK');
      // The write that timed out was sent once and never again on the new connection.
      expect(received.split('first-write').length - 1).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
