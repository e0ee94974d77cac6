import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { MAX_LINE_QUANTITY } from '../common/order-size';
import { Code } from '../infra/http/dto-properties';

export class AddCartItemDto {
  @Code({ example: 'TSHIRT-M' })
  sku!: string;

  @ApiProperty({
    example: 2,
    minimum: 1,
    maximum: MAX_LINE_QUANTITY,
    description: 'Added to what the cart holds',
  })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  quantity!: number;
}

export class SetCartItemDto {
  @ApiProperty({
    example: 3,
    minimum: 0,
    maximum: MAX_LINE_QUANTITY,
    description: 'The new quantity; 0 removes the line',
  })
  @IsInt()
  @Min(0)
  @Max(MAX_LINE_QUANTITY)
  quantity!: number;
}

export class CartLineDto {
  @ApiProperty({ example: 'TSHIRT-M' }) sku!: string;
  @ApiProperty({ example: 2 }) quantity!: number;
  @ApiProperty({ type: String, nullable: true, example: '0193a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40' }) productId!:
    string | null;
  @ApiProperty({ type: String, nullable: true, example: 'T-shirt' }) productName!: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1299,
    description: 'minor units, from the catalog now',
  })
  unitPrice!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 2598 }) lineTotal!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'EUR' }) currency!: string | null;
  @ApiProperty({ example: true }) available!: boolean;
  @ApiProperty({ enum: ['UNKNOWN_SKU', 'INACTIVE'], nullable: true, example: null }) problem!: string | null;
}

export class CartSubtotalDto {
  @ApiProperty({ example: 2598 }) amount!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class CartDto {
  @ApiProperty({ type: [CartLineDto] }) items!: CartLineDto[];
  @ApiProperty({ type: CartSubtotalDto, nullable: true }) subtotal!: CartSubtotalDto | null;
  @ApiProperty({ example: 2 }) totalQuantity!: number;
  @ApiProperty({ example: true }) orderable!: boolean;
}
