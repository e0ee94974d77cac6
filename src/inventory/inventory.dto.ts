import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class AdjustStockDto {
  @ApiPropertyOptional({ example: 120, description: 'Units physically in stock; not below what is reserved' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  onHand?: number;

  @ApiPropertyOptional({ example: 5, description: 'Alert ops when available drops below this' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  lowStockThreshold?: number;
}

export class StockViewDto {
  @ApiProperty({ example: 'TSHIRT-M' }) sku!: string;
  @ApiProperty({ example: 120 }) onHand!: number;
  @ApiProperty({ example: 3 }) reserved!: number;
  @ApiProperty({ example: 117, description: 'onHand - reserved' }) available!: number;
  @ApiProperty({ example: 5 }) lowStockThreshold!: number;
}
