import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';

export class CartSkuNotFoundError extends DomainError {
  constructor(sku: string) {
    super('not_found', 'SKU_NOT_FOUND', `Unknown SKU: ${sku}`, { skus: [sku] });
  }
}

export class CartSkuInactiveError extends ConflictError {
  constructor(sku: string) {
    super('SKU_INACTIVE', `Not for sale: ${sku}`, { skus: [sku] });
  }
}

/** 409 CART_FULL: the cart holds as many different SKUs as one order may. */
export class CartFullError extends ConflictError {
  constructor(maxLines: number) {
    super('CART_FULL', `A cart holds at most ${maxLines} different SKUs (one order's worth)`, { maxLines });
  }
}

/** 409 CART_LINE_LIMIT: more of one SKU than one order may hold. */
export class CartLineLimitError extends ConflictError {
  constructor(sku: string, max: number, current: number) {
    super('CART_LINE_LIMIT', `At most ${max} of ${sku} per order (the cart holds ${current})`, {
      sku,
      maxQuantity: max,
      current,
    });
  }
}

/** 409 CART_EMPTY / CART_NOT_ORDERABLE: checkout from a cart that cannot become an order as it is. */
export class CartNotOrderableError extends ConflictError {
  constructor(code: 'CART_EMPTY' | 'CART_NOT_ORDERABLE', message: string, details?: unknown) {
    super(code, message, details);
  }
}

export class CartItemNotFoundError extends NotFoundError {
  constructor(sku: string) {
    super(`Cart line ${sku}`, 'CART_ITEM_NOT_FOUND');
  }
}
