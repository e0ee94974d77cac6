import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import pino, { type Logger } from 'pino';
import { requestContext } from '../../common/context/request-context';
import { AppConfig } from '../config/app-config';

/** Loggers (pino-http's per-request children) that already carry `requestId` as a binding. */
const boundRequestId = new WeakMap<Logger, boolean>();

/**
 * pino mixin: adds the request id of the current unit of work — HTTP request, gRPC call or
 * job (WorkerRegistry runs each job in its producer's request context) — to every line,
 * unless the logger is pino-http's request child, which already has it as a binding (pino
 * would otherwise write the key twice, and a duplicate key makes some log stores reject the line).
 */
export function requestIdMixin(merge: object, _level: number, logger: Logger): { requestId?: string } {
  const ctx = requestContext.get();
  // A line that names its request itself (the access log's) keeps that one key.
  if (!ctx || 'requestId' in merge) return {};
  let bound = boundRequestId.get(logger);
  if (bound === undefined) {
    bound = 'requestId' in logger.bindings();
    boundRequestId.set(logger, bound);
  }
  return bound ? {} : { requestId: ctx.requestId };
}

/** The SonicBoom members used here (pino.destination() returns one). */
interface Sonic {
  sync: boolean;
  minLength: number;
  _len?: number;
  write(b: Buffer): boolean;
  flush(cb?: (err?: Error) => void): void;
  flushSync(): void;
}

/** SonicBoom's largest single write(2) (its default, 16 KiB, would split a batch in four). */
const LOG_MAX_WRITE = 64 * 1024;
/** Lines are collected up to this many bytes before a write(2)... */
const LOG_BUFFER_BYTES = LOG_MAX_WRITE - 512;
/** ...or until this long has passed: no line waits longer than this to reach stdout. */
const LOG_FLUSH_MS = 200;

/**
 * The process's log destination: every line (pino's and the access log's) is copied as UTF-8
 * into a batch buffer, and a full batch (LOG_BUFFER_BYTES, or what a flush finds) goes to SonicBoom
 * as it is, in its buffer mode: written with one write(2) and never converted again. Measured
 * alternatives, per access line: SonicBoom appending each line to its pending string ~4 µs (it
 * takes the byte length of the whole pending string on every write); collecting the strings and
 * joining them per batch ~1.5 µs, much of it in the garbage collector (a batch's lines outlived
 * the young generation's collections) and in converting the joined string at write time. A line
 * copied into the buffer is garbage at once. Lines keep their order: this is the only way into
 * the SonicBoom.
 */
class LineBatch {
  private buf = Buffer.allocUnsafeSlow(LOG_MAX_WRITE);
  private len = 0;

  constructor(readonly sonic: Sonic) {}

  write(line: string): boolean {
    // At most 3 bytes per UTF-16 unit: a line that might not fit goes out after the batch.
    if (this.len + line.length * 3 > this.buf.length) {
      this.drain();
      if (line.length * 3 > this.buf.length) {
        this.sonic.write(Buffer.from(line));
        return true;
      }
    }
    this.len += this.buf.write(line, this.len);
    if (this.len >= LOG_BUFFER_BYTES || this.sonic.sync) this.drain();
    return true;
  }

  /** Hands the batch to SonicBoom, which writes it when it holds LOG_BUFFER_BYTES (or is flushed). */
  drain(): void {
    if (!this.len) return;
    const batch = this.buf.subarray(0, this.len);
    // SonicBoom keeps the batch until its write is done: the next lines go to a new buffer.
    this.buf = Buffer.allocUnsafeSlow(LOG_MAX_WRITE);
    this.len = 0;
    this.sonic.write(batch);
  }

  flush(cb?: (err?: Error) => void): void {
    this.drain();
    this.sonic.flush(cb);
  }

  /** What is collected and buffered is written before this returns (pino calls it after a fatal line). */
  flushSync(): void {
    this.drain();
    this.sonic.flushSync();
  }
}

let destination: LineBatch | undefined;

/**
 * stdout through one asynchronous pino destination per process (SonicBoom, `sync: false`, behind
 * a {@link LineBatch}): a log line is appended to a buffer that is written once it holds
 * LOG_BUFFER_BYTES or every LOG_FLUSH_MS, so under load dozens of lines go out in one write and
 * no request waits for the terminal or pipe. At exit the collected lines are handed over first
 * and pino flushes the SonicBoom synchronously (also on process.exit and fatal errors). A
 * graceful shutdown ends with Nest re-raising the signal, which kills the process without an
 * exit event: so shutdown switches the destination to synchronous writes first
 * ({@link logSynchronously}). Only a SIGKILL can lose the last LOG_FLUSH_MS of lines. One per
 * process: every app instance in it (the e2e tests build several) shares it, so lines of two
 * writers never interleave.
 */
export function logDestination(): pino.DestinationStream {
  if (!destination) {
    const d = new LineBatch(
      pino.destination({
        dest: 1,
        sync: false,
        minLength: LOG_BUFFER_BYTES,
        maxWrite: LOG_MAX_WRITE,
        contentMode: 'buffer',
      }) as unknown as Sonic,
    );
    setInterval(() => {
      try {
        d.drain();
        if (d.sonic._len !== 0) d.sonic.flush();
      } catch {
        /* destroyed (stdout closed): nothing more can be written */
      }
    }, LOG_FLUSH_MS).unref();
    // Before pino's own exit handlers (which flush or end the SonicBoom): the collected lines
    // must be in it by then. At 'exit' there is no event loop left: written synchronously.
    process.prependListener('beforeExit', () => {
      try {
        d.drain();
      } catch {
        /* destroyed */
      }
    });
    process.prependListener('exit', () => logSynchronously());
    destination = d;
  }
  return destination;
}

/**
 * From now on every line is written before the call that logs it returns, and what is buffered
 * is written now. Called when shutdown begins (Lifecycle): the process may then end by its
 * re-raised signal, which runs no exit handler, and the drain's lines are the ones an operator
 * needs. Idempotent.
 */
export function logSynchronously(): void {
  if (!destination) return;
  destination.sonic.minLength = 0;
  destination.sonic.sync = true;
  try {
    destination.flushSync();
  } catch {
    /* an asynchronous write still in flight finishes on its own; later lines are synchronous */
  }
}

/** pino JSON logs; every line carries the request id (also inside jobs, see WorkerRegistry). */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // The per-request pino-http middleware is not installed (it cost ~25% of a trivial
        // route's throughput, and the HTTP edge bypasses it): the access line (HTTP_LOG) is
        // AccessLog's, written from the onResponse hook and the edge; log lines carry the request
        // id via the mixin. nestjs-pino still builds pino-http's logger: PinoLogger.root.
        forRoutes: [],
        pinoHttp: [
          {
            level: config.logLevel,
            autoLogging: false,
            genReqId: (req: IncomingMessage) => String(req.headers['x-request-id'] ?? ''),
            customAttributeKeys: { reqId: 'requestId' },
            quietReqLogger: true,
            mixin: requestIdMixin,
            redact: {
              paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-signature"]'],
              censor: '[redacted]',
            },
            serializers: {
              req: (req: { method: string; url: string; id: string }) => ({
                method: req.method,
                url: req.url,
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
          },
          logDestination(),
        ],
      }),
    }),
  ],
})
export class AppLoggerModule {}
