import { ApiProperty } from '@nestjs/swagger';
import { AddressInputDto } from '../addresses';
import { ORDER_STATUSES, OrderStatus } from './order-state';

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
