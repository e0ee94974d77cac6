import { Socket, isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** A RESP2 reply: simple and bulk strings, integers, nil, arrays; an error reply is a {@link LaneReplyError}. */
export type LaneReply = string | number | null | LaneReply[];

/** An error reply of Redis (`-ERR …`, `-NOSCRIPT …`, `-OOM …`), with Redis's message as ioredis gives it. */
export class LaneReplyError extends Error {
  override readonly name = 'ReplyError';
}

export interface LaneOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: boolean;
  /** A command without its answer within this bound rejects "Command timed out" and the connection is replaced. */
  commandTimeoutMs: number;
  /** The connection and its handshake (AUTH, SELECT, CLIENT SETNAME) within this bound, else retried. */
  connectTimeoutMs: number;
  name: string;
}

interface Pending {
  resolve: (reply: LaneReply) => void;
  reject: (err: Error) => void;
  deadline: number;
}

/** The parser's "need more bytes". */
const INCOMPLETE = Symbol('incomplete');
type Parsed = { value: LaneReply | LaneReplyError; end: number } | typeof INCOMPLETE;

/**
 * A lean second connection to one Redis server, for the hot paths' commands only (the cart's
 * script and read, the flash-sale purchase; decision 0030). With 50 commands in flight, ioredis
 * (auto-pipelined) spent 14–29 µs of CPU per command on the build machine against 4–16 µs here
 * (`scripts/redis-client-cpu.ts`, three runs): this client encodes a command as one string, sends every
 * command of one event-loop turn in one write, and parses the RESP2 replies in place, in order.
 *
 * It keeps the failure rules of the shared ioredis client (RedisService.commandBounds, decision
 * 0014): it never queues a command while disconnected (the caller is told at once, and
 * {@link ready} lets it take the ordinary client instead); a command unanswered within
 * `commandTimeoutMs` rejects "Command timed out" — and with it everything in flight behind it, on
 * a connection that is then destroyed and opened again; a command in flight on a connection that
 * died rejects "Connection is closed." and is never sent again. Those messages are the ones
 * ioredis gives, so error-mapping answers them 503 with `dependency: redis` as it does ioredis's.
 * One server only: for Sentinel and Cluster URLs RedisService offers no lane.
 */
export class RespLane {
  private socket?: Socket;
  private connected = false;
  private closed = false;
  private attempts = 0;
  private reconnectTimer?: NodeJS.Timeout;
  /** In flight, oldest first (`head` is the next reply's). */
  private pending: Pending[] = [];
  private head = 0;
  private outgoing = '';
  private flushScheduled = false;
  private rest?: Buffer;
  private watchdog?: NodeJS.Timeout;

  constructor(private readonly opts: LaneOptions) {
    this.open();
  }

  /** Connected and past its handshake: commands go out now. */
  get ready(): boolean {
    return this.connected && !this.closed;
  }

  /** One command (its arguments as Redis takes them); rejects at once while not {@link ready}. */
  send(args: readonly (string | number)[]): Promise<LaneReply> {
    if (!this.ready) return Promise.reject(new Error("Stream isn't writeable (Redis lane not connected)"));
    return new Promise<LaneReply>((resolve, reject) => {
      this.enqueue(encode(args), { resolve, reject, deadline: Date.now() + this.opts.commandTimeoutMs });
    });
  }

  /** Closes the connection for good; what is in flight rejects. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.drop(new Error('Connection is closed.'));
  }

  private enqueue(command: string, p: Pending): void {
    this.pending.push(p);
    this.outgoing += command;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Every command of this turn of the event loop (the requests of one poll) in one write.
      setImmediate(this.flush);
    }
    this.watchdog ??= setTimeout(this.check, this.opts.commandTimeoutMs);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const data = this.outgoing;
    this.outgoing = '';
    if (data && this.socket && this.connected) this.socket.write(data);
  };

  /** Fires while something is in flight: the oldest command past its deadline times out the connection. */
  private readonly check = (): void => {
    this.watchdog = undefined;
    const oldest = this.pending[this.head];
    if (!oldest) return;
    const late = oldest.deadline - Date.now();
    if (late <= 0) {
      this.drop(new Error('Command timed out'));
      return;
    }
    this.watchdog = setTimeout(this.check, late);
  };

  private open(): void {
    if (this.closed) return;
    const { host, port, tls } = this.opts;
    const socket = tls
      ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }) })
      : netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    const giveUp = setTimeout(
      () => socket.destroy(new Error('connect timed out')),
      this.opts.connectTimeoutMs,
    );
    socket.on(tls ? 'secureConnect' : 'connect', () => {
      const hello: (string | number)[][] = [];
      if (this.opts.password)
        hello.push(
          this.opts.username
            ? ['AUTH', this.opts.username, this.opts.password]
            : ['AUTH', this.opts.password],
        );
      if (this.opts.db) hello.push(['SELECT', this.opts.db]);
      hello.push(['CLIENT', 'SETNAME', this.opts.name]);
      let left = hello.length;
      for (let i = 0; i < hello.length; i++)
        this.pending.push({
          resolve: () => {
            if (--left) return;
            clearTimeout(giveUp);
            this.attempts = 0;
            this.connected = true;
          },
          reject: (err) => socket.destroy(err),
          deadline: Date.now() + this.opts.connectTimeoutMs,
        });
      socket.write(hello.map(encode).join(''));
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      clearTimeout(giveUp);
      if (this.socket !== socket) return;
      this.drop(new Error('Connection is closed.'));
    });
  }

  /** Fails everything in flight, forgets the connection and (unless closed) opens another after a backoff. */
  private drop(err: Error): void {
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    this.rest = undefined;
    this.outgoing = '';
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
    const failed = this.pending.slice(this.head);
    this.pending = [];
    this.head = 0;
    socket?.destroy();
    for (const p of failed) p.reject(err);
    if (!this.closed && !this.reconnectTimer) {
      const delay = Math.min(++this.attempts * 100, 1000);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        this.open();
      }, delay);
      this.reconnectTimer.unref();
    }
  }

  private onData(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    let at = 0;
    for (;;) {
      let r: Parsed;
      try {
        r = parse(buf, at);
      } catch {
        // Not RESP2: nothing more on this connection can be trusted.
        this.drop(new Error('Connection is closed.'));
        return;
      }
      if (r === INCOMPLETE) break;
      at = r.end;
      const p = this.pending[this.head];
      if (!p) {
        // A reply nobody asked for: the stream is out of step; start over on a new connection.
        this.drop(new Error('Connection is closed.'));
        return;
      }
      this.pending[this.head++] = undefined as unknown as Pending;
      if (r.value instanceof LaneReplyError) p.reject(r.value);
      else p.resolve(r.value);
    }
    if (this.head === this.pending.length) {
      this.pending = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    this.rest = at < buf.length ? buf.subarray(at) : undefined;
  }
}

/** A command as RESP2 (an array of bulk strings). */
export function encode(args: readonly (string | number)[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const v = typeof a === 'string' ? a : String(a);
    s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  }
  return s;
}

/** One RESP2 reply at `at`, or INCOMPLETE when `buf` does not hold all of it yet. */
export function parse(buf: Buffer, at: number): Parsed {
  if (at >= buf.length) return INCOMPLETE;
  const nl = buf.indexOf(10, at);
  if (nl < 0) return INCOMPLETE;
  const type = buf[at];
  const line = buf.toString('utf8', at + 1, nl - 1);
  switch (type) {
    case 43: // +
      return { value: line, end: nl + 1 };
    case 45: // -
      return { value: new LaneReplyError(line), end: nl + 1 };
    case 58: // :
      return { value: Number(line), end: nl + 1 };
    case 36: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, end: nl + 1 };
      if (buf.length < nl + 3 + n) return INCOMPLETE;
      return { value: buf.toString('utf8', nl + 1, nl + 1 + n), end: nl + 3 + n };
    }
    case 42: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, end: nl + 1 };
      const items: LaneReply[] = new Array<LaneReply>(n);
      let failed: LaneReplyError | undefined;
      let end = nl + 1;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, end);
        if (r === INCOMPLETE) return INCOMPLETE;
        // An error inside an array (a script's error_reply in a table): the reply is that error.
        if (r.value instanceof LaneReplyError) failed ??= r.value;
        else items[i] = r.value;
        end = r.end;
      }
      return { value: failed ?? items, end };
    }
    default:
      throw new Error(`unexpected RESP type byte ${type}`);
  }
}
