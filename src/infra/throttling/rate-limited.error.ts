import { DomainError } from '../../common/errors/domain-error';

/** 429 RATE_LIMITED; the HTTP filter turns `retryAfterSeconds` into a Retry-After header. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many requests; retry later',
    code = 'RATE_LIMITED',
  ) {
    super('rate_limited', code, message, { retryAfterSeconds });
  }
}
