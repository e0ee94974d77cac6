import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDate, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { ORDER_STATUSES, OrderStatus } from './order-state';

// Strict: `Number('0x10')` is 16 and V8 reads `new Date("' OR '1'='1")` as 2001-01-01.
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const toDate = ({ value }: { value: unknown }) =>
  typeof value === 'string' && ISO_DATE.test(value) ? new Date(value) : value;

export class ListOrdersQueryDto {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
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
  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  userId?: string;
}
