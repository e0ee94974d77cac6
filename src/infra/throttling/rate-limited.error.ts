import { DomainError } from '../../common/errors/domain-error';

/** 429 RATE_LIMITED; the HTTP filter turns `retryAfterSeconds` into a Retry-After header. */
export class RateLimitedError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many requests; retry later',
  ) {
    super('rate_limited', 'RATE_LIMITED', message, { retryAfterSeconds });
  }
}
