import { ConflictError, NotFoundError } from '../common/errors/domain-error';

export class TaxRateNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Tax rate ${id}`, 'TAX_RATE_NOT_FOUND');
  }
}

export class TaxRateExistsError extends ConflictError {
  constructor(country: string, categoryId: string | null) {
    super(
      'TAX_RATE_EXISTS',
      `A tax rate for ${country}${categoryId ? ` and category ${categoryId}` : ''} exists already`,
      { country, categoryId },
    );
  }
}
