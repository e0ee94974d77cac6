import { ConflictError, DomainError } from '../common/errors/domain-error';
import type { Breakdown } from './checkout.types';

export class CheckoutSkuNotFoundError extends DomainError {
  constructor(skus: string[]) {
    super('not_found', 'SKU_NOT_FOUND', `Unknown SKU: ${skus.join(', ')}`, { skus });
  }
}

export class CheckoutSkuInactiveError extends ConflictError {
  constructor(skus: string[]) {
    super('SKU_INACTIVE', `Not for sale: ${skus.join(', ')}`, { skus });
  }
}

export class CheckoutMixedCurrenciesError extends DomainError {
  constructor(currencies: string[]) {
    super('unprocessable', 'MIXED_CURRENCIES', `One order cannot mix currencies (${currencies.join(', ')})`, {
      currencies,
    });
  }
}

/**
 * 409 PRICE_CHANGED: the order would cost something else than the total the client was shown
 * (`expectedTotal`). `details.breakdown` is the new price; sending that total (or none) accepts it.
 */
export class PriceChangedError extends ConflictError {
  constructor(expectedTotal: number, breakdown: Breakdown) {
    super(
      'PRICE_CHANGED',
      `The order now costs ${breakdown.total} ${breakdown.currency}, not ${expectedTotal}; send expectedTotal ${breakdown.total} to accept`,
      { expectedTotal, breakdown },
    );
  }
}
