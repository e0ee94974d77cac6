import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SmtpPool } from './smtp-pool';

/** An in-process SMTP server that counts connections and can refuse a message. */
async function server(refuse: (body: string) => boolean = () => false) {
  const sockets = new Set<Socket>();
  let connections = 0;
  let open = 0;
  let maxOpen = 0;
  const received: string[] = [];
  const srv = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect: (_session, cb) => {
      connections++;
      maxOpen = Math.max(maxOpen, ++open);
      cb();
    },
    onClose: () => void open--,
    onData: (stream, _session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (refuse(body)) return cb(Object.assign(new Error('no thanks'), { responseCode: 554 }));
        received.push(body);
        cb();
      });
    },
  });
  srv.server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.server.address() as AddressInfo).port,
    stats: () => ({ connections, maxOpen, received }),
    dropAll: () => sockets.forEach((s) => s.destroy()),
    stop: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

type Server = Awaited<ReturnType<typeof server>>;

/** A pool towards a fresh server; both are closed after `fn`. */
async function withPool(
  opts: { maxConnections?: number; maxMessages?: number; refuse?: (body: string) => boolean },
  fn: (p: SmtpPool, s: Server) => Promise<void>,
): Promise<void> {
  const s = await server(opts.refuse);
  const p = new SmtpPool({
    host: '127.0.0.1',
    port: s.port,
    maxConnections: opts.maxConnections ?? 2,
    maxMessages: opts.maxMessages ?? 100,
    connectionTimeout: 2000,
    greetingTimeout: 2000,
    socketTimeout: 2000,
    sendTimeout: 3000,
  });
  try {
    await fn(p, s);
  } finally {
    p.close();
    await s.stop();
  }
}
const envelope = { from: 'a@shop.test', to: ['b@shop.test'] };
const msg = (n: number) => Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);

describe('SmtpPool', () => {
  it('sends concurrent messages on at most maxConnections connections, reusing them', () =>
    withPool({ maxConnections: 2 }, async (p, s) => {
      const infos = await Promise.all(Array.from({ length: 8 }, (_, i) => p.send(envelope, msg(i))));
      expect(infos.every((i) => /^250/.test(i.response))).toBe(true);
      await Promise.all(Array.from({ length: 4 }, (_, i) => p.send(envelope, msg(10 + i))));
      expect(s.stats()).toMatchObject({ connections: 2, maxOpen: 2 });
      expect(s.stats().received).toHaveLength(12);
    }));

  it('replaces a connection after maxMessages, and one the server closed while it was idle', () =>
    withPool({ maxConnections: 1, maxMessages: 2 }, async (p, s) => {
      for (let i = 0; i < 5; i++) await p.send(envelope, msg(i));
      expect(s.stats().connections).toBe(3);
      s.dropAll();
      await new Promise((r) => setTimeout(r, 50));
      await p.send(envelope, msg(5));
      expect(s.stats().connections).toBe(4);
      expect(s.stats().received).toHaveLength(6);
    }));

  it('rejects a message the server refuses, and the next one goes on a fresh connection', () =>
    withPool({ maxConnections: 1, refuse: (body) => body.includes('body 1') }, async (p, s) => {
      await p.send(envelope, msg(0));
      await expect(p.send(envelope, msg(1))).rejects.toMatchObject({ responseCode: 554 });
      await p.send(envelope, msg(2));
      expect(s.stats().received.map((b) => b.match(/body \d/)![0])).toEqual(['body 0', 'body 2']);
      expect(s.stats().connections).toBe(2);
    }));

  it('fails sends once closed', () =>
    withPool({}, async (p) => {
      p.close();
      await expect(p.send(envelope, msg(0))).rejects.toThrow(/closed/);
    }));
});
