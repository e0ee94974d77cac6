import { ApiProperty, PartialType } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { ADDRESS_LIMITS } from './address-validation';
import { IdProperty, OptionalFlag, OptionalText, stacked } from '../infra/http/dto-properties';

type AddressLine = keyof typeof ADDRESS_LIMITS;

/** A line of an address, a string of at most its ADDRESS_LIMITS length (stated in the schema too). */
const AddressField = (line: AddressLine, example: string): PropertyDecorator =>
  stacked(
    ApiProperty({ example, maxLength: ADDRESS_LIMITS[line] }),
    IsString(),
    MaxLength(ADDRESS_LIMITS[line]),
  );

/** An optional line of an address: as AddressField, or null. */
const OptionalAddressField = (line: AddressLine, example: string): PropertyDecorator =>
  OptionalText(ADDRESS_LIMITS[line], {
    type: String,
    example,
    maxLength: ADDRESS_LIMITS[line],
    nullable: true,
  });

/**
 * Shapes and lengths are checked here (400 VALIDATION_FAILED); what a carrier needs — required
 * fields not blank, an ISO 3166-1 alpha-2 country, a postal code and phone of the right shape —
 * by normalizeAddress (422 ADDRESS_INVALID), the same check an inline order address gets.
 */
export class AddressInputDto {
  @AddressField('fullName', 'Erika Mustermann')
  fullName!: string;

  @OptionalAddressField('company', 'ACME GmbH')
  company?: string | null;

  @AddressField('line1', 'Heidestraße 17')
  line1!: string;

  @OptionalAddressField('line2', '3rd floor')
  line2?: string | null;

  @AddressField('city', 'Köln')
  city!: string;

  @OptionalAddressField('region', 'NRW')
  region?: string | null;

  @AddressField('postalCode', '51147')
  postalCode!: string;

  @ApiProperty({ example: 'DE', description: 'ISO 3166-1 alpha-2', minLength: 2, maxLength: 2 })
  @IsString()
  @MaxLength(2)
  country!: string;

  @OptionalAddressField('phone', '+49 221 1234567')
  phone?: string | null;
}

export class CreateAddressDto extends AddressInputDto {
  @OptionalFlag({ example: true, description: 'Make it the default (the first address always is)' })
  isDefault?: boolean;
}

export class UpdateAddressDto extends PartialType(CreateAddressDto) {}

export class AddressDto extends AddressInputDto {
  @IdProperty() id!: string;
  @ApiProperty({ example: true }) isDefault!: boolean;
  @ApiProperty({ example: '2026-12-06T10:00:00.000Z' }) createdAt!: string;
}

export class AddressListDto {
  @ApiProperty({ type: [AddressDto] }) items!: AddressDto[];
}
