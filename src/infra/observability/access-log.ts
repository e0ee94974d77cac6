import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import pino, { type Logger } from 'pino';
import { logDestination } from './logger.module';
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
  /** `,"pid":…,"hostname":"…"`: the root logger's bindings, as pino writes them on every line. */
  private base?: string;
  private destination?: pino.DestinationStream;

  constructor(config: AppConfig) {
    this.enabled = config.httpLog;
  }

  record(method: string, url: string, statusCode: number, elapsedMs: number, requestId: string): void {
    if (!this.enabled || url.startsWith('/health')) return;
    const root = PinoLogger.root as Logger | undefined;
    if (!root || !root.isLevelEnabled('info')) return;
    const responseTime = Math.round(elapsedMs);
    if (statusCode >= 500) {
      // The rare error line goes through pino itself (the error serializer). The root's req/res
      // serializers (pino-http's) expect Node's objects: these are ready ones.
      this.logger ??= root.child({}, { serializers: { req: same, res: same } });
      this.logger.info(
        {
          requestId,
          req: { method, url },
          res: { statusCode },
          err: new Error(`failed with status code ${statusCode}`),
          responseTime,
        },
        'request errored',
      );
      return;
    }
    // Every other line is assembled here, byte for byte what pino writes for
    // root.info({requestId, req, res, responseTime}, 'request completed') (test/observability):
    // at thousands of lines a second pino's generic path (mixin, redaction, serializers) cost
    // as much as the edge's own answer.
    this.base ??= (root as unknown as Record<symbol, string>)[pino.symbols.chindingsSym];
    this.destination ??= logDestination();
    this.destination.write(
      `{"level":30,"time":${Date.now()}${this.base},"requestId":${JSON.stringify(requestId)},"req":{"method":"${method}","url":${JSON.stringify(url)}},"res":{"statusCode":${statusCode}},"responseTime":${responseTime},"msg":"request completed"}\n`,
    );
  }

  /**
   * A request whose client went away before the answer (Fastify's onRequestAbort; no onResponse
   * follows): logged as pino-http logged it, "request aborted" with an `Aborted` error, so the
   * access log still has one line per request.
   */
  aborted(method: string, url: string, elapsedMs: number, requestId: string): void {
    if (!this.enabled || url.startsWith('/health')) return;
    const root = PinoLogger.root as Logger | undefined;
    if (!root || !root.isLevelEnabled('info')) return;
    this.logger ??= root.child({}, { serializers: { req: same, res: same } });
    this.logger.info(
      { requestId, req: { method, url }, err: new Error('Aborted'), responseTime: Math.round(elapsedMs) },
      'request aborted',
    );
  }
}

const same = <T>(v: T): T => v;
