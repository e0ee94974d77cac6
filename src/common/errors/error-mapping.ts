import { HttpException, HttpStatus } from '@nestjs/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { DomainError, ErrorKind } from './domain-error';

/** The contract's error body. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  requestId: string;
  details?: unknown;
}

const KIND_TO_HTTP: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

const KIND_TO_GRPC: Record<ErrorKind, GrpcStatus> = {
  invalid: GrpcStatus.INVALID_ARGUMENT,
  unauthenticated: GrpcStatus.UNAUTHENTICATED,
  forbidden: GrpcStatus.PERMISSION_DENIED,
  not_found: GrpcStatus.NOT_FOUND,
  conflict: GrpcStatus.FAILED_PRECONDITION,
  unprocessable: GrpcStatus.INVALID_ARGUMENT,
  rate_limited: GrpcStatus.RESOURCE_EXHAUSTED,
  unavailable: GrpcStatus.UNAVAILABLE,
};

const HTTP_STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  503: 'UNAVAILABLE',
};

/** Error codes of infrastructure failures that mean "a dependency is down": answered 503, not 500. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_SERVER_SHUTDOWN',
  'POOL_CLOSED',
  // No free pool connection within DB_ACQUIRE_TIMEOUT_MS (infra/database/pool-acquire.ts).
  'DB_ACQUIRE_TIMEOUT',
]);

/**
 * What ioredis says when Redis does not answer: a command past REDIS_COMMAND_TIMEOUT_MS, a
 * connection that is closed or (re)connecting with no offline queue, a socket replaced after
 * silence; on a Redis Cluster also a slot whose master is failing over (CLUSTERDOWN, TRYAGAIN,
 * a redirection the client could not follow, a write that reached a demoted master). mysql2 says "Pool is closed".
 */
const REDIS_DOWN =
  /Command timed out|Connection is closed|Stream isn't writeable|Socket timeout|All sentinels are unreachable|None of startup nodes is available|Cluster isn't ready|Too many Cluster redirections|Failed to refresh slots cache|^(CLUSTERDOWN|TRYAGAIN|MOVED|ASK|LOADING|MASTERDOWN) |^READONLY You can't write against a read only replica/;

export function isUnavailableError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: string; name?: string; message?: string; driverError?: unknown };
  if (e.code && UNAVAILABLE_ERRNOS.has(e.code)) return true;
  if (e.name === 'MaxRetriesPerRequestError') return true; // ioredis, Redis down
  if (
    typeof e.message === 'string' &&
    (REDIS_DOWN.test(e.message) || /connect ETIMEDOUT|Pool is closed/.test(e.message))
  )
    return true;
  if (e.driverError) return isUnavailableError(e.driverError);
  return false;
}

/**
 * Which dependency an unavailable error comes from, for the 503's `details.dependency`:
 * `redis` or `mysql` (the names readiness uses for their instances are in its admin view), or
 * whatever a {@link TimeoutError} was told. Undefined when it cannot be told (a bare ECONNREFUSED).
 */
export function dependencyOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as {
    dependency?: unknown;
    code?: string;
    name?: string;
    message?: string;
    driverError?: unknown;
    sqlState?: unknown;
    fatal?: unknown;
  };
  if (typeof e.dependency === 'string') return e.dependency;
  if (e.name === 'MaxRetriesPerRequestError' || (typeof e.message === 'string' && REDIS_DOWN.test(e.message)))
    return 'redis';
  if (
    e.driverError !== undefined ||
    e.sqlState !== undefined ||
    typeof e.fatal === 'boolean' || // mysql2's connection errors
    (e.code !== undefined && /^(ER_|PROTOCOL_|POOL_|DB_)/.test(e.code)) ||
    /Pool is closed/.test(e.message ?? '')
  )
    return 'mysql';
  return undefined;
}

export interface MappedError {
  status: number;
  grpc: GrpcStatus;
  code: string;
  message: string;
  details?: unknown;
  /** True when this is a bug or unknown failure (logged with stack, message hidden). */
  internal: boolean;
}

/** One mapping from anything thrown to the contract's codes, shared by HTTP and gRPC. */
export function mapError(err: unknown): MappedError {
  if (err instanceof DomainError) {
    return {
      status: KIND_TO_HTTP[err.kind],
      grpc: KIND_TO_GRPC[err.kind],
      code: err.code,
      message: err.message,
      details: err.details,
      internal: false,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse() as string | { message?: unknown; code?: string; details?: unknown };
    const obj = typeof res === 'object' ? res : undefined;
    const code =
      obj?.code ??
      (status === 429
        ? 'RATE_LIMITED'
        : (HTTP_STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST')));
    const message =
      typeof res === 'string' ? res : typeof obj?.message === 'string' ? obj.message : err.message;
    return {
      status,
      grpc: httpToGrpc(status),
      code,
      message,
      details: obj?.details,
      internal: status >= 500,
    };
  }
  const fe = err as { statusCode?: number; code?: string; message?: string };
  // Fastify's own errors (body parsing, content type, size) carry a 4xx statusCode and an FST_ code.
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const status = fe.statusCode;
    let code = HTTP_STATUS_CODES[status] ?? 'BAD_REQUEST';
    let message = fe.message ?? 'Bad request';
    if (
      fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      /JSON/.test(message)
    ) {
      code = 'MALFORMED_JSON';
      message = 'The request body is not valid JSON';
    } else if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      message = 'The request body is larger than the limit';
    } else if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      message = 'Unsupported content type; send application/json';
    }
    return { status, grpc: httpToGrpc(status), code, message, internal: false };
  }
  if (isUnavailableError(err)) {
    const dependency = dependencyOf(err);
    return {
      status: 503,
      grpc: GrpcStatus.UNAVAILABLE,
      code: 'UNAVAILABLE',
      message: 'A dependency is unavailable, retry later',
      ...(dependency ? { details: { dependency } } : {}),
      internal: false,
    };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    grpc: GrpcStatus.INTERNAL,
    code: 'INTERNAL_ERROR',
    message: 'An unexpected error occurred',
    internal: true,
  };
}

/** The gRPC status each HTTP status of the contract maps to. */
const GRPC_OF_HTTP: Readonly<Record<number, GrpcStatus>> = {
  400: GrpcStatus.INVALID_ARGUMENT,
  413: GrpcStatus.INVALID_ARGUMENT,
  415: GrpcStatus.INVALID_ARGUMENT,
  422: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  409: GrpcStatus.FAILED_PRECONDITION,
  429: GrpcStatus.RESOURCE_EXHAUSTED,
  503: GrpcStatus.UNAVAILABLE,
};

function httpToGrpc(status: number): GrpcStatus {
  return GRPC_OF_HTTP[status] ?? (status >= 500 ? GrpcStatus.INTERNAL : GrpcStatus.UNKNOWN);
}
