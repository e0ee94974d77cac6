import { ApiProperty, PartialType } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MaxLength } from 'class-validator';
import { MAX_SHIPPING_PRICE } from './shipping.service';
import {
  Code,
  CountryCode,
  CurrencyCode,
  IdProperty,
  MinorUnits,
  OptionalCurrencyCode,
  OptionalFlag,
  OptionalInt,
} from '../infra/http/dto-properties';

export class CreateShippingMethodDto {
  @Code({ example: 'dhl-standard', description: 'Stable code clients send with an order' })
  code!: string;

  @ApiProperty({ example: 'DHL Standard (2-3 days)' })
  @IsString()
  @MaxLength(100)
  name!: string;

  @MinorUnits(MAX_SHIPPING_PRICE, 490)
  price!: number;

  @CurrencyCode()
  currency!: string;

  @OptionalInt(0, 2 ** 42, {
    type: Number,
    example: 5000,
    nullable: true,
    description: 'Free when the goods after discount cost at least this',
  })
  freeAbove?: number | null;

  @ApiProperty({ example: ['DE', 'AT'], description: 'ISO 3166-1 alpha-2 codes' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(249)
  @IsString({ each: true })
  @Matches(/^[A-Z]{2}$/, { each: true, message: 'countries must be ISO 3166-1 alpha-2 codes' })
  countries!: string[];

  @OptionalFlag()
  active?: boolean;
}

export class UpdateShippingMethodDto extends PartialType(CreateShippingMethodDto) {}

export class ShippingMethodDto extends CreateShippingMethodDto {
  @IdProperty() id!: string;
}

export class ShippingMethodListDto {
  @ApiProperty({ type: [ShippingMethodDto] }) items!: ShippingMethodDto[];
}

export class AvailableShippingQuery {
  @CountryCode({ example: 'DE', description: 'Destination, ISO 3166-1 alpha-2' })
  country!: string;

  @OptionalCurrencyCode()
  currency?: string;
}
