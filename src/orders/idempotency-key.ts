import { ValidationFailedError } from '../common/errors/domain-error';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The client's idempotency key, as both transports take it (REST header `Idempotency-Key`, gRPC
 * field `idempotency_key`): absent or empty means none; anything else must be 1-128 of
 * A-Z a-z 0-9 . _ : - (it becomes part of a storage key).
 */
export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined || key === '') return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new ValidationFailedError('Idempotency-Key must be 1-128 of A-Z a-z 0-9 . _ : -');
  return key;
}
