import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';

/** 422 ADDRESS_INVALID: well-formed JSON whose address a carrier could not use (country, postal code...). */
export class AddressInvalidError extends DomainError {
  constructor(problems: { field: string; problem: string }[]) {
    super(
      'unprocessable',
      'ADDRESS_INVALID',
      `Address invalid: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`,
      problems,
    );
  }
}

export class AddressNotFoundError extends NotFoundError {
  constructor(id: string) {
    super(`Address ${id}`, 'ADDRESS_NOT_FOUND');
  }
}

export class AddressBookFullError extends ConflictError {
  constructor(max: number) {
    super('ADDRESS_BOOK_FULL', `An address book holds at most ${max} addresses`, { max });
  }
}
