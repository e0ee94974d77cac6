import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { AddressInputDto } from '../addresses';

export class OrderItemInputDto {
  @ApiProperty({ example: 'TSHIRT-M' })
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'sku must be 1-64 of A-Z a-z 0-9 . _ -' })
  sku!: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: 1000 })
  @IsInt()
  @Min(1)
  @Max(1000)
  quantity!: number;
}

/**
 * Prices are never taken from the client: an item with `price` is rejected by the whitelist.
 * Lines: `items`, or `fromCart: true` (the caller's cart). Without an address: no shipping line,
 * tax for the shop's home country (docs/checkout.md).
 */
export class CreateOrderDto {
  @ApiPropertyOptional({ type: [OrderItemInputDto], description: 'The lines; or send fromCart: true' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => OrderItemInputDto)
  items?: OrderItemInputDto[];

  @ApiPropertyOptional({ example: true, description: 'Order what my cart holds (instead of items)' })
  @IsOptional()
  @Equals(true, { message: 'fromCart must be true when given' })
  fromCart?: boolean;

  @ApiPropertyOptional({
    example: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40',
    description: 'An address of my address book',
  })
  @IsOptional()
  @IsUUID()
  addressId?: string;

  @ApiPropertyOptional({
    type: AddressInputDto,
    description: 'Or an address given inline (not saved to the book)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AddressInputDto)
  shippingAddress?: AddressInputDto;

  @ApiPropertyOptional({
    example: 'dhl-standard',
    description: 'A shipping method code; required with an address',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'shippingMethod must be a shipping method code' })
  shippingMethod?: string;

  @ApiPropertyOptional({ example: 'WELCOME20' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  couponCode?: string;

  @ApiPropertyOptional({
    example: 8490,
    description:
      "The quote's total the customer accepted (minor units); another total answers 409 PRICE_CHANGED",
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  expectedTotal?: number;
}

/** A quote takes what an order takes (expectedTotal is ignored there: a quote is the price now). */
export class QuoteOrderDto extends CreateOrderDto {}

export class SetOrderAddressDto {
  @ApiPropertyOptional({ example: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40' })
  @IsOptional()
  @IsUUID()
  addressId?: string;

  @ApiPropertyOptional({ type: AddressInputDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AddressInputDto)
  address?: AddressInputDto;
}
