import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';

/** 422 SHIPPING_NOT_AVAILABLE: no such active method, or it does not ship to that country or in that currency. */
export class ShippingNotAvailableError extends DomainError {
  constructor(code: string, reason: string, details: Record<string, unknown> = {}) {
    super('unprocessable', 'SHIPPING_NOT_AVAILABLE', `Shipping method ${code} is not available: ${reason}`, {
      method: code,
      ...details,
    });
  }
}

export class ShippingMethodNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Shipping method ${id}`, 'SHIPPING_METHOD_NOT_FOUND');
  }
}

export class ShippingMethodCodeTakenError extends ConflictError {
  constructor(code: string) {
    super('SHIPPING_METHOD_CODE_TAKEN', `A shipping method with code ${code} exists already`, { code });
  }
}
