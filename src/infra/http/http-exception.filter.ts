import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestContext } from '../../common/context/request-context';
import { ErrorBody, mapError } from '../../common/errors/error-mapping';

/** Builds the contract's error body for anything thrown while serving HTTP. */
export function toErrorBody(err: unknown, requestId: string, logger: Logger): ErrorBody {
  const m = mapError(err);
  if (m.internal) logger.error({ err, requestId }, (err as Error)?.stack ?? String(err));
  else if (m.status >= 500)
    logger.warn(`${m.code}: ${(err as Error)?.message ?? err} (request ${requestId})`);
  const body: ErrorBody = { statusCode: m.status, code: m.code, message: m.message, requestId };
  if (m.details !== undefined) body.details = m.details;
  return body;
}

/** The contract's error body plus the headers that go with it (Retry-After on a 429). */
export function errorResponse(
  err: unknown,
  requestId: string,
  logger: Logger,
): { body: ErrorBody; headers?: Record<string, string> } {
  const body = toErrorBody(err, requestId, logger);
  const retry =
    body.statusCode === 429 ? (err as { retryAfterSeconds?: number }).retryAfterSeconds : undefined;
  return retry ? { body, headers: { 'retry-after': String(retry) } } : { body };
}

/** The one HTTP exception filter: every error response has the contract's shape. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const req = http.getRequest<FastifyRequest>();
    const requestId = requestContext.requestId() ?? String(req?.id ?? '');
    const { body, headers } = errorResponse(exception, requestId, this.logger);
    if (headers) void reply.headers(headers);
    void reply.status(body.statusCode).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
