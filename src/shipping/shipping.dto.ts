import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { MAX_SHIPPING_PRICE } from './shipping.service';
import { IdProperty, MinorUnits, OptionalFlag } from '../infra/http/dto-properties';

export class CreateShippingMethodDto {
  @ApiProperty({ example: 'dhl-standard', description: 'Stable code clients send with an order' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'code must be 1-64 of A-Z a-z 0-9 . _ -' })
  code!: string;

  @ApiProperty({ example: 'DHL Standard (2-3 days)' })
  @IsString()
  @MaxLength(100)
  name!: string;

  @MinorUnits(MAX_SHIPPING_PRICE, 490)
  price!: number;

  @ApiProperty({ example: 'EUR' })
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code' })
  currency!: string;

  @ApiPropertyOptional({
    type: Number,
    example: 5000,
    nullable: true,
    description: 'Free when the goods after discount cost at least this',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 42)
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
  @ApiProperty({ example: 'DE', description: 'Destination, ISO 3166-1 alpha-2' })
  @IsString()
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code' })
  country!: string;

  @ApiPropertyOptional({ example: 'EUR' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code' })
  currency?: string;
}
