import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';

export class OrderNotFoundError extends NotFoundError {
  constructor(orderId: string) {
    super(`Order ${orderId}`, 'ORDER_NOT_FOUND');
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(
      'unprocessable',
      'IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used with a different request body',
    );
  }
}

export class IdempotencyInProgressError extends ConflictError {
  constructor() {
    super('IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed');
  }
}

/** 409: the customer already has `limit` unpaid orders (pay or cancel one first). */
export class UnpaidOrderLimitError extends ConflictError {
  constructor(limit: number) {
    super(
      'UNPAID_ORDER_LIMIT',
      `At most ${limit} unpaid orders at a time: pay or cancel one before placing another`,
      { limit },
    );
  }
}

/** 409: this order would take the customer's unpaid units of `sku` past `limit`. */
export class SkuHoldLimitError extends ConflictError {
  constructor(sku: string, limit: number, held: number, requested: number) {
    super(
      'SKU_HOLD_LIMIT',
      `At most ${limit} units of ${sku} in unpaid orders per customer (${held} held, ${requested} requested)`,
      { sku, limit, held, requested },
    );
  }
}
