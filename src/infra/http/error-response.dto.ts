import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The contract's error shape, documented once and attached to every operation. */
export class ErrorResponseDto {
  @ApiProperty({ example: 409 }) statusCode!: number;
  @ApiProperty({ example: 'INSUFFICIENT_STOCK', description: 'Stable UPPER_SNAKE error code' }) code!: string;
  @ApiProperty({ example: 'Not enough stock for SKU TSHIRT-M' }) message!: string;
  @ApiProperty({ example: 'c0a8012e-5d3f-4a63-9a4e-3f2f0d9b8c11' }) requestId!: string;
  @ApiPropertyOptional({
    description: 'Per-field problems or other structured context',
    example: [{ field: 'items.0.quantity', errors: ['quantity must not be less than 1'] }],
  })
  details?: unknown;
}
