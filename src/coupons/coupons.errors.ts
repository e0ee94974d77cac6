import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';

export class CouponNotFoundError extends NotFoundError {
  constructor(code: string) {
    super(`Coupon ${code}`, 'COUPON_NOT_FOUND');
  }
}

/** 409 COUPON_EXHAUSTED: its total usage limit is reached. */
export class CouponExhaustedError extends ConflictError {
  constructor(code: string) {
    super('COUPON_EXHAUSTED', `Coupon ${code} has been used up`, { coupon: code });
  }
}

/** 409 COUPON_LIMIT_REACHED: this customer used it as often as one customer may. */
export class CouponLimitReachedError extends ConflictError {
  constructor(code: string, limit: number | null) {
    super('COUPON_LIMIT_REACHED', `Coupon ${code} can be used ${limit ?? 0} time(s) per customer`, {
      coupon: code,
      perCustomerLimit: limit,
    });
  }
}

/** 422 COUPON_NOT_APPLICABLE: not active, not started, ended, minimum not reached, no eligible line, other currency. */
export class CouponNotApplicableError extends DomainError {
  constructor(code: string, reason: string) {
    super('unprocessable', 'COUPON_NOT_APPLICABLE', `Coupon ${code} does not apply: ${reason}`, {
      coupon: code,
      reason,
    });
  }
}

export class CouponCodeTakenError extends ConflictError {
  constructor(code: string) {
    super('COUPON_CODE_TAKEN', `A coupon with code ${code} exists already`, { code });
  }
}
