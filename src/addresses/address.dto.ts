import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { ADDRESS_LIMITS } from './address-validation';
import { IdProperty, OptionalFlag } from '../infra/http/dto-properties';

/**
 * Shapes and lengths are checked here (400 VALIDATION_FAILED); what a carrier needs — required
 * fields not blank, an ISO 3166-1 alpha-2 country, a postal code and phone of the right shape —
 * by normalizeAddress (422 ADDRESS_INVALID), the same check an inline order address gets.
 */
export class AddressInputDto {
  @ApiProperty({ example: 'Erika Mustermann', maxLength: ADDRESS_LIMITS.fullName })
  @IsString()
  @MaxLength(ADDRESS_LIMITS.fullName)
  fullName!: string;

  @ApiPropertyOptional({
    type: String,
    example: 'ACME GmbH',
    maxLength: ADDRESS_LIMITS.company,
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(ADDRESS_LIMITS.company)
  company?: string | null;

  @ApiProperty({ example: 'Heidestraße 17', maxLength: ADDRESS_LIMITS.line1 })
  @IsString()
  @MaxLength(ADDRESS_LIMITS.line1)
  line1!: string;

  @ApiPropertyOptional({
    type: String,
    example: '3rd floor',
    maxLength: ADDRESS_LIMITS.line2,
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(ADDRESS_LIMITS.line2)
  line2?: string | null;

  @ApiProperty({ example: 'Köln', maxLength: ADDRESS_LIMITS.city })
  @IsString()
  @MaxLength(ADDRESS_LIMITS.city)
  city!: string;

  @ApiPropertyOptional({ type: String, example: 'NRW', maxLength: ADDRESS_LIMITS.region, nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(ADDRESS_LIMITS.region)
  region?: string | null;

  @ApiProperty({ example: '51147', maxLength: ADDRESS_LIMITS.postalCode })
  @IsString()
  @MaxLength(ADDRESS_LIMITS.postalCode)
  postalCode!: string;

  @ApiProperty({ example: 'DE', description: 'ISO 3166-1 alpha-2', minLength: 2, maxLength: 2 })
  @IsString()
  @MaxLength(2)
  country!: string;

  @ApiPropertyOptional({
    type: String,
    example: '+49 221 1234567',
    maxLength: ADDRESS_LIMITS.phone,
    nullable: true,
  })
  @IsOptional()
  @IsString()
  @MaxLength(ADDRESS_LIMITS.phone)
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
