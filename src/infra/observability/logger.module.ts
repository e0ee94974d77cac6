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

let destination: pino.DestinationStream | undefined;

/** Lines are collected up to this many bytes before a write(2)... */
const LOG_BUFFER_BYTES = 16 * 1024 - 512;
/** ...or until this long has passed: no line waits longer than this to reach stdout. */
const LOG_FLUSH_MS = 200;

/**
 * stdout through one asynchronous pino destination per process (SonicBoom, `sync: false`): a
 * log line is appended to a buffer that is written once it holds LOG_BUFFER_BYTES or every
 * LOG_FLUSH_MS, so under load dozens of lines go out in one write and no request waits for the
 * terminal or pipe. pino flushes it synchronously at exit (also on process.exit and fatal
 * errors). A graceful shutdown ends with Nest re-raising the signal, which kills the process
 * without an exit event: so shutdown switches the destination to synchronous writes first
 * ({@link logSynchronously}). Only a SIGKILL can lose the last LOG_FLUSH_MS of lines. One per process: every app
 * instance in it (the e2e tests build several) shares it, so lines of two writers never interleave.
 */
export function logDestination(): pino.DestinationStream {
  if (!destination) {
    const d = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
    setInterval(() => {
      try {
        if ((d as unknown as { _len?: number })._len !== 0) d.flush();
      } catch {
        /* destroyed (stdout closed): nothing more can be written */
      }
    }, LOG_FLUSH_MS).unref();
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
  const d = destination as unknown as { sync: boolean; minLength: number; flushSync(): void };
  d.minLength = 0;
  d.sync = true;
  try {
    d.flushSync();
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
