import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';

export class SoldOutError extends ConflictError {
  constructor() {
    super('SOLD_OUT', 'This flash sale is sold out');
  }
}

export class AlreadyPurchasedError extends ConflictError {
  constructor() {
    super('ALREADY_PURCHASED', 'You already bought the maximum allowed in this flash sale');
  }
}

export class SaleNotActiveError extends ConflictError {
  constructor() {
    super('NOT_ACTIVE', 'This flash sale is not running now');
  }
}

/**
 * The sale's Redis state is gone (Redis restarted empty or lost data): purchases stop rather
 * than resell units that may already be sold. See docs/flash-sale.md.
 */
export class SalePausedError extends DomainError {
  constructor() {
    super('unavailable', 'SALE_PAUSED', 'This flash sale is paused; retry later');
  }
}

export class FlashSaleNotFoundError extends NotFoundError {
  constructor() {
    super('Flash sale', 'NOT_FOUND');
  }
}

export class ReconcileBusyError extends ConflictError {
  constructor() {
    super('RECONCILE_IN_PROGRESS', 'A reconciliation of this sale is already running');
  }
}
