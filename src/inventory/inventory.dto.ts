import { ApiProperty } from '@nestjs/swagger';
import { OptionalInt } from '../infra/http/dto-properties';

export class AdjustStockDto {
  @OptionalInt(0, 1_000_000_000, {
    example: 120,
    description: 'Units physically in stock; not below what is reserved',
  })
  onHand?: number;

  @OptionalInt(0, 1_000_000_000, { example: 5, description: 'Alert ops when available drops below this' })
  lowStockThreshold?: number;
}

export class StockViewDto {
  @ApiProperty({ example: 'TSHIRT-M' }) sku!: string;
  @ApiProperty({ example: 120 }) onHand!: number;
  @ApiProperty({ example: 3 }) reserved!: number;
  @ApiProperty({ example: 117, description: 'onHand - reserved' }) available!: number;
  @ApiProperty({ example: 5 }) lowStockThreshold!: number;
}
