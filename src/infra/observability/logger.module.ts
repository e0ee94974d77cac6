import { Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
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
export function requestIdMixin(_merge: object, _level: number, logger: Logger): { requestId?: string } {
  const ctx = requestContext.get();
  if (!ctx) return {};
  let bound = boundRequestId.get(logger);
  if (bound === undefined) {
    bound = 'requestId' in logger.bindings();
    boundRequestId.set(logger, bound);
  }
  return bound ? {} : { requestId: ctx.requestId };
}

/** pino JSON logs; every line carries the request id (also inside jobs, see WorkerRegistry). */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // With HTTP_LOG off the per-request pino-http middleware is not installed at all (it cost
        // ~25% of a trivial route's throughput); log lines still carry the request id via mixin.
        // Every route, in path-to-regexp 8's syntax (nestjs-pino's default '*' draws two
        // LegacyRouteConverter warnings at every boot).
        forRoutes: config.httpLog ? [{ path: '{*path}', method: RequestMethod.ALL }] : [],
        pinoHttp: {
          level: config.logLevel,
          autoLogging: config.httpLog
            ? { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') }
            : false,
          genReqId: (req: IncomingMessage) => String(req.headers['x-request-id'] ?? ''),
          customAttributeKeys: { reqId: 'requestId' },
          quietReqLogger: true,
          mixin: requestIdMixin,
          redact: {
            paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-signature"]'],
            censor: '[redacted]',
          },
          serializers: {
            req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url }),
            res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
          },
        },
      }),
    }),
  ],
})
export class AppLoggerModule {}
