import net from 'node:net';

export type FaultMode = 'pass' | 'latency' | 'blackhole' | 'reset' | 'refuse';

/**
 * A TCP proxy placed between the app and a server (MySQL, Redis, SMTP) in tests, to inject
 * faults: added latency, black-holing (accept, never answer), resetting connections, or
 * refusing new ones (the listener is closed, like a stopped server).
 */
export class FaultProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private mode: FaultMode = 'pass';
  private latencyMs = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = this.port): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Switches the fault; 'reset' and 'refuse' also drop every open connection. */
  async set(mode: FaultMode, latencyMs = 0): Promise<void> {
    this.mode = mode;
    this.latencyMs = latencyMs;
    if (mode === 'reset' || mode === 'refuse') for (const s of this.sockets) s.resetAndDestroy();
    if (mode === 'refuse' && this.server) {
      await new Promise<void>((r) => this.server!.close(() => r()));
      this.server = undefined;
    } else if (mode !== 'refuse' && !this.server) {
      await this.start(this.port);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    if (this.mode === 'reset') return void client.resetAndDestroy();
    if (this.mode === 'blackhole') return; // accepted, never answered
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.sockets.add(upstream);
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    // Delayed chunks go through a queue drained by one timer, so bytes keep their order even
    // when the latency changes (or drops to zero) while some are still waiting.
    const pipe = (from: net.Socket, to: net.Socket) => {
      const queue: { at: number; chunk: Buffer }[] = [];
      let timer: NodeJS.Timeout | undefined;
      const flush = () => {
        timer = undefined;
        while (queue.length && queue[0].at <= Date.now()) {
          const { chunk } = queue.shift()!;
          if (to.writable) to.write(chunk);
        }
        if (queue.length) timer = setTimeout(flush, queue[0].at - Date.now());
      };
      from.on('close', () => timer && clearTimeout(timer));
      from.on('data', (chunk: Buffer) => {
        if (this.mode === 'blackhole') return;
        const delay = this.mode === 'latency' ? this.latencyMs : 0;
        if (!queue.length && delay <= 0) {
          if (to.writable) to.write(chunk);
          return;
        }
        queue.push({ at: Date.now() + delay, chunk });
        timer ??= setTimeout(flush, Math.max(0, queue[0].at - Date.now()));
      });
    };
    pipe(client, upstream);
    pipe(upstream, client);
  }
}
