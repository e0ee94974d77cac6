import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { MAX_SHIPPING_PRICE } from './shipping.service';

export class CreateShippingMethodDto {
  @ApiProperty({ example: 'dhl-standard', description: 'Stable code clients send with an order' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'code must be 1-64 of A-Z a-z 0-9 . _ -' })
  code!: string;

  @ApiProperty({ example: 'DHL Standard (2-3 days)' })
  @IsString()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ example: 490, description: 'Minor units' })
  @IsInt()
  @Min(0)
  @Max(MAX_SHIPPING_PRICE)
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

  @ApiPropertyOptional({ example: true })
  @IsOptional()
  @IsBoolean()
  active?: boolean;
}

export class UpdateShippingMethodDto extends PartialType(CreateShippingMethodDto) {}

export class ShippingMethodDto extends CreateShippingMethodDto {
  @ApiProperty({ example: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40' }) id!: string;
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
