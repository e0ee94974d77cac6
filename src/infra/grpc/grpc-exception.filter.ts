import { ArgumentsHost, Catch, Logger, RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Metadata } from '@grpc/grpc-js';
import { Observable, throwError } from 'rxjs';
import { requestContext } from '../../common/context/request-context';
import { mapError } from '../../common/errors/error-mapping';

/**
 * The one gRPC error mapper: anything thrown by a gRPC handler (or the guard before it) leaves
 * as a status from mapError — the same table the HTTP filter uses — with the stable error code
 * and request id in trailing metadata (`error-code`, `x-request-id`).
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter {
  private readonly logger = new Logger('GrpcError');

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    if (exception instanceof RpcException) {
      const e = exception.getError();
      if (typeof e === 'object' && e && 'code' in e) return throwError(() => e);
    }
    const m = mapError(exception);
    const requestId = requestContext.requestId() ?? '';
    if (m.internal)
      this.logger.error({ err: exception, requestId }, (exception as Error)?.stack ?? String(exception));
    const metadata = new Metadata();
    metadata.set('error-code', m.code);
    // RESOURCE_EXHAUSTED from a rate limit says when to retry, as HTTP's Retry-After does.
    const retryAfter = (exception as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (m.status === 429 && retryAfter) metadata.set('retry-after', String(retryAfter));
    if (requestId) metadata.set('x-request-id', requestId);
    // Which dependency a 503/UNAVAILABLE is about, as HTTP's details.dependency says it.
    const dependency = (m.details as { dependency?: unknown } | undefined)?.dependency;
    if (typeof dependency === 'string') metadata.set('dependency', dependency);
    return throwError(() => ({ code: m.grpc, message: m.message, details: m.message, metadata }));
  }
}
