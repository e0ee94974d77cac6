import { Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { requestContext } from '../../common/context/request-context';
import { AppConfig } from '../config/app-config';

/** pino JSON logs; every line carries the request id (also inside jobs, see WorkerRegistry). */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        // With HTTP_LOG off the per-request pino-http middleware is not installed at all (it cost
        // ~25% of a trivial route's throughput); log lines still carry the request id via mixin.
        ...(config.httpLog ? {} : { forRoutes: [] }),
        pinoHttp: {
          level: config.logLevel,
          autoLogging: config.httpLog
            ? { ignore: (req: IncomingMessage) => (req.url ?? '').startsWith('/health') }
            : false,
          genReqId: (req: IncomingMessage) => String(req.headers['x-request-id'] ?? ''),
          customAttributeKeys: { reqId: 'requestId' },
          quietReqLogger: true,
          mixin: () => {
            const ctx = requestContext.get();
            return ctx ? { requestId: ctx.requestId } : {};
          },
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
