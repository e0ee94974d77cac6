import { ConflictError, NotFoundError } from '../common/errors/domain-error';

export class ProductNotFoundError extends NotFoundError {
  constructor() {
    super('Product', 'PRODUCT_NOT_FOUND');
  }
}

export class CategoryNotFoundError extends NotFoundError {
  constructor() {
    super('Category', 'CATEGORY_NOT_FOUND');
  }
}

export class DuplicateError extends ConflictError {
  constructor(what: 'SKU' | 'SLUG', value: string) {
    super(`${what}_TAKEN`, `${what === 'SKU' ? 'SKU' : 'Slug'} ${value} is already used`, {
      [what.toLowerCase()]: value,
    });
  }
}
