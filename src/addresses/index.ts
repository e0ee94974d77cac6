/** The addresses module's public API. */
export { AddressesModule } from './addresses.module';
export { AddressesService } from './addresses.service';
export type { AddressInput } from './addresses.service';
export type { AddressView, PostalAddress } from './address.types';
export { MAX_ADDRESSES_PER_USER } from './address.types';
export { normalizeAddress, ADDRESS_LIMITS } from './address-validation';
export { AddressInvalidError, AddressNotFoundError } from './addresses.errors';
export { AddressInputDto } from './address.dto';
