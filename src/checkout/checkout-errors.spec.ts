import { status } from '@grpc/grpc-js';
import {
  AddressBookFullError,
  AddressInvalidError,
  AddressNotFoundError,
} from '../addresses/addresses.errors';
import { CartFullError, CartLineLimitError, CartNotOrderableError } from '../cart/cart.errors';
import { mapError } from '../common/errors/error-mapping';
import {
  CouponExhaustedError,
  CouponLimitReachedError,
  CouponNotApplicableError,
  CouponNotFoundError,
} from '../coupons/coupons.errors';
import { ShippingNotAvailableError } from '../shipping/shipping.errors';
import { PriceChangedError } from './checkout.errors';

/** The checkout's stable codes and what HTTP and gRPC clients get for them (docs/checkout.md). */
describe('checkout error codes', () => {
  const breakdown = {
    subtotal: 1,
    discount: 0,
    shipping: 0,
    tax: 0,
    taxIncluded: true,
    total: 1,
    currency: 'EUR',
  };
  it.each([
    [new CouponExhaustedError('X'), 409, status.FAILED_PRECONDITION, 'COUPON_EXHAUSTED'],
    [new CouponLimitReachedError('X', 1), 409, status.FAILED_PRECONDITION, 'COUPON_LIMIT_REACHED'],
    [new CouponNotApplicableError('X', 'ended'), 422, status.INVALID_ARGUMENT, 'COUPON_NOT_APPLICABLE'],
    [new CouponNotFoundError('X'), 404, status.NOT_FOUND, 'COUPON_NOT_FOUND'],
    [
      new ShippingNotAvailableError('std', 'no such method'),
      422,
      status.INVALID_ARGUMENT,
      'SHIPPING_NOT_AVAILABLE',
    ],
    [
      new AddressInvalidError([{ field: 'country', problem: 'x' }]),
      422,
      status.INVALID_ARGUMENT,
      'ADDRESS_INVALID',
    ],
    [new AddressNotFoundError('a'), 404, status.NOT_FOUND, 'ADDRESS_NOT_FOUND'],
    [new AddressBookFullError(20), 409, status.FAILED_PRECONDITION, 'ADDRESS_BOOK_FULL'],
    [new PriceChangedError(1, breakdown), 409, status.FAILED_PRECONDITION, 'PRICE_CHANGED'],
    [new CartFullError(50), 409, status.FAILED_PRECONDITION, 'CART_FULL'],
    [new CartLineLimitError('S', 1000, 999), 409, status.FAILED_PRECONDITION, 'CART_LINE_LIMIT'],
    [new CartNotOrderableError('CART_EMPTY', 'empty'), 409, status.FAILED_PRECONDITION, 'CART_EMPTY'],
  ])('%s → HTTP %i, gRPC %i, code %s', (err, http, grpc, code) => {
    expect(mapError(err)).toMatchObject({ status: http, grpc, code, internal: false });
  });
});
