/**
 * Errors the domain raises. Services throw these (never HTTP exceptions); the HTTP exception
 * filter and the gRPC error mapper turn `kind` into a status code and `code` is passed through
 * unchanged to clients as the stable, documented error code.
 */
export type ErrorKind =
  | 'invalid' // 400 / INVALID_ARGUMENT
  | 'unauthenticated' // 401 / UNAUTHENTICATED
  | 'forbidden' // 403 / PERMISSION_DENIED
  | 'not_found' // 404 / NOT_FOUND
  | 'conflict' // 409 / FAILED_PRECONDITION (or ALREADY_EXISTS)
  | 'unprocessable' // 422 / INVALID_ARGUMENT
  | 'rate_limited' // 429 / RESOURCE_EXHAUSTED
  | 'unavailable'; // 503 / UNAVAILABLE

export class DomainError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details?: unknown;

  /**
   * Domain errors are answers (a 4xx, a 503), not faults: they are never logged with a stack, so
   * none is captured — capturing one was the largest single cost of a refused flash purchase.
   */
  constructor(kind: ErrorKind, code: string, message: string, details?: unknown) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.kind = kind;
    this.code = code;
    if (details !== undefined) this.details = details;
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, code = 'NOT_FOUND') {
    super('not_found', code, `${what} not found`);
  }
}

export class ValidationFailedError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('invalid', 'VALIDATION_FAILED', message, details);
  }
}

export class ConflictError extends DomainError {
  constructor(code: string, message: string, details?: unknown) {
    super('conflict', code, message, details);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'Authentication required', code = 'UNAUTHENTICATED') {
    super('unauthenticated', code, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'Not allowed', code = 'FORBIDDEN') {
    super('forbidden', code, message);
  }
}

/** 503 / UNAVAILABLE; `dependency` (redis, mysql, smtp, ...) goes to `details.dependency`. */
export class UnavailableError extends DomainError {
  constructor(
    message = 'A dependency is unavailable, retry later',
    code = 'UNAVAILABLE',
    dependency?: string,
  ) {
    super('unavailable', code, message, dependency ? { dependency } : undefined);
  }
}
