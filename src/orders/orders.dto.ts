import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type, Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  IsDate,
  IsIn,
} from 'class-validator';
import { AddressInputDto } from '../addresses';
import { ORDER_STATUSES, OrderStatus } from './order-state';
import { PageCursor, PageLimit } from '../infra/http/page-query';
import { Code, OptionalId, OptionalInt, OptionalText } from '../infra/http/dto-properties';

export class OrderItemInputDto {
  @Code({ example: 'TSHIRT-M' })
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

  @OptionalId({
    example: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40',
    description: 'An address of my address book',
  })
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

  @OptionalText(64, { example: 'WELCOME20' })
  couponCode?: string;

  @OptionalInt(0, Number.MAX_SAFE_INTEGER, {
    example: 8490,
    description:
      "The quote's total the customer accepted (minor units); another total answers 409 PRICE_CHANGED",
  })
  expectedTotal?: number;
}

/** A quote takes what an order takes (expectedTotal is ignored there: a quote is the price now). */
export class QuoteOrderDto extends CreateOrderDto {}

export class SetOrderAddressDto {
  @OptionalId({ example: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40' })
  addressId?: string;

  @ApiPropertyOptional({ type: AddressInputDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AddressInputDto)
  address?: AddressInputDto;
}

export class MoneyDto {
  @ApiProperty({ example: 8490, description: 'minor units' }) amount!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class OrderItemDto {
  @ApiProperty({ example: 'TSHIRT-M' }) sku!: string;
  @ApiProperty({ example: 'T-shirt' }) productName!: string;
  @ApiProperty({ example: 2 }) quantity!: number;
  @ApiProperty({ example: 5000, description: 'minor units' }) unitPrice!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ example: 10000, description: 'unitPrice × quantity' }) lineTotal!: number;
  @ApiProperty({ example: 2000, description: "this line's share of the coupon's discount" })
  discount!: number;
  @ApiProperty({ example: 1277, description: 'tax of (lineTotal − discount), rounded half up per line' })
  tax!: number;
  @ApiProperty({ example: 1900, description: 'basis points (1900 = 19 %)' }) taxRateBp!: number;
}

export class BreakdownDto {
  @ApiProperty({ example: 10000, description: 'sum of lineTotal' }) subtotal!: number;
  @ApiProperty({ example: 2000 }) discount!: number;
  @ApiProperty({ example: 490 }) shipping!: number;
  @ApiProperty({ example: 1355, description: 'lines and shipping' }) tax!: number;
  @ApiProperty({ example: true, description: 'prices include tax (shown, not added); false: tax is added' })
  taxIncluded!: boolean;
  @ApiProperty({ example: 8490, description: 'subtotal − discount + shipping (+ tax when not included)' })
  total!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class ShippingMethodRefDto {
  @ApiProperty({ example: 'dhl-standard' }) code!: string;
  @ApiProperty({ example: 'DHL Standard (2-3 days)' }) name!: string;
}

export class CouponRefDto {
  @ApiProperty({ example: 'WELCOME20' }) code!: string;
}

export class OrderDto {
  @ApiProperty() id!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status!: OrderStatus;
  @ApiProperty({ type: [OrderItemDto] }) items!: OrderItemDto[];
  @ApiProperty({ type: MoneyDto, description: 'What the customer pays: breakdown.total' }) total!: MoneyDto;
  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' }) createdAt!: string;
  @ApiProperty({ enum: ['web', 'flash_sale'] }) source!: 'web' | 'flash_sale';
  @ApiProperty({ type: BreakdownDto }) breakdown!: BreakdownDto;
  @ApiProperty({ type: String, nullable: true, example: 'DE' }) taxCountry!: string | null;
  @ApiProperty({
    type: AddressInputDto,
    nullable: true,
    description: 'A copy, taken when the order was placed',
  })
  shippingAddress!: AddressInputDto | null;
  @ApiProperty({ type: ShippingMethodRefDto, nullable: true }) shippingMethod!: ShippingMethodRefDto | null;
  @ApiProperty({ type: CouponRefDto, nullable: true }) coupon!: CouponRefDto | null;
  @ApiProperty({
    example: false,
    description: 'Flash-sale order without an address yet: PUT /orders/{id}/address before paying',
  })
  awaitingAddress!: boolean;
}

export class QuoteDto {
  @ApiProperty({ type: [OrderItemDto] }) items!: OrderItemDto[];
  @ApiProperty({ type: BreakdownDto }) breakdown!: BreakdownDto;
  @ApiProperty({ example: 'DE' }) taxCountry!: string;
  @ApiProperty({ type: AddressInputDto, nullable: true }) shippingAddress!: AddressInputDto | null;
  @ApiProperty({ type: ShippingMethodRefDto, nullable: true }) shippingMethod!: ShippingMethodRefDto | null;
  @ApiProperty({ type: CouponRefDto, nullable: true }) coupon!: CouponRefDto | null;
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderDto] }) items!: OrderDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

// Strict: V8 reads `new Date("' OR '1'='1")` as 2001-01-01.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const toDate = ({ value }: { value: unknown }) =>
  typeof value === 'string' && ISO_DATE.test(value) ? new Date(value) : value;

export class ListOrdersQueryDto {
  @PageCursor()
  cursor?: string;

  @PageLimit(100, 20)
  limit?: number;

  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional({ description: 'created at or after (ISO 8601)', example: '2026-01-01T00:00:00Z' })
  @IsOptional()
  @Transform(toDate)
  @IsDate()
  from?: Date;

  @ApiPropertyOptional({ description: 'created before (ISO 8601)' })
  @IsOptional()
  @Transform(toDate)
  @IsDate()
  to?: Date;
}

export class AdminListOrdersQueryDto extends ListOrdersQueryDto {
  @OptionalId()
  userId?: string;
}
