import { ConflictError, NotFoundError } from '../common/errors/domain-error';

export class PaymentNotFoundError extends NotFoundError {
  constructor() {
    super('Payment', 'PAYMENT_NOT_FOUND');
  }
}

export class OrderNotPayableError extends ConflictError {
  constructor(status: string) {
    super('ORDER_NOT_PAYABLE', `The order is ${status}; only PENDING_PAYMENT orders can be paid`);
  }
}

export class PaymentNotPendingError extends ConflictError {
  constructor(status: string) {
    super('PAYMENT_NOT_PENDING', `The payment is ${status}; only PENDING payments can be confirmed`);
  }
}

export class PaymentNotRefundableError extends ConflictError {
  constructor(message: string) {
    super('PAYMENT_NOT_REFUNDABLE', message);
  }
}

/** 409 ADDRESS_REQUIRED: the order waits for its shipping address (PUT /orders/:id/address) before it can be paid. */
export class AddressRequiredError extends ConflictError {
  constructor(orderId: string) {
    super('ADDRESS_REQUIRED', `Order ${orderId} needs a shipping address before it can be paid`, { orderId });
  }
}
