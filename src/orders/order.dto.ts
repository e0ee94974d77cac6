import { ApiProperty } from '@nestjs/swagger';
import { ORDER_STATUSES, OrderStatus } from './order-state';

export class MoneyDto {
  @ApiProperty({ example: 2598, description: 'minor units' }) amount!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class OrderItemDto {
  @ApiProperty({ example: 'TSHIRT-M' }) sku!: string;
  @ApiProperty({ example: 'T-shirt' }) productName!: string;
  @ApiProperty({ example: 2 }) quantity!: number;
  @ApiProperty({ example: 1299, description: 'minor units' }) unitPrice!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class OrderDto {
  @ApiProperty() id!: string;
  @ApiProperty() userId!: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status!: OrderStatus;
  @ApiProperty({ type: [OrderItemDto] }) items!: OrderItemDto[];
  @ApiProperty({ type: MoneyDto }) total!: MoneyDto;
  @ApiProperty({ example: '2026-11-23T10:00:00.000Z' }) createdAt!: string;
  @ApiProperty({ enum: ['web', 'flash_sale'] }) source!: 'web' | 'flash_sale';
}

export class OrderPageDto {
  @ApiProperty({ type: [OrderDto] }) items!: OrderDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}
