import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';

/**
 * The HTTP access log (HTTP_LOG): one line per request, written when the answer is sent, by the
 * pipeline's onResponse hook (app.factory.ts) and by the HTTP edge (EdgeRoutes) alike. The line
 * is the one pino-http wrote before (decision 0010 and the access-log decision):
 *
 *   {"level":30,"time":…,"pid":…,"hostname":…,"requestId":"…","req":{"method":"GET","url":"/api/v1/…"},
 *    "res":{"statusCode":200},"responseTime":3,"msg":"request completed"}
 *
 * (a 5xx: "request errored" with an `err`), through the application's pino logger and so its
 * asynchronous destination (AppLoggerModule): writing a line costs the request a serialisation
 * into a buffer, not a write(2). Health probes are not logged, as before.
 */
@Injectable()
export class AccessLog {
  readonly enabled: boolean;
  private logger?: Logger;

  constructor(config: AppConfig) {
    this.enabled = config.httpLog;
  }

  record(method: string, url: string, statusCode: number, elapsedMs: number, requestId: string): void {
    if (!this.enabled || url.startsWith('/health')) return;
    // The root's req/res serializers (pino-http's) expect Node's objects: these are ready ones.
    const log = (this.logger ??= (PinoLogger.root as Logger | undefined)?.child(
      {},
      { serializers: { req: same, res: same } },
    ));
    if (!log || !log.isLevelEnabled('info')) return;
    const responseTime = Math.round(elapsedMs);
    if (statusCode >= 500)
      log.info(
        {
          requestId,
          req: { method, url },
          res: { statusCode },
          err: new Error(`failed with status code ${statusCode}`),
          responseTime,
        },
        'request errored',
      );
    else
      log.info({ requestId, req: { method, url }, res: { statusCode }, responseTime }, 'request completed');
  }
}

const same = <T>(v: T): T => v;
