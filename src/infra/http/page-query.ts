import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/** A query-string integer, strictly: `Number('0x10')` is 16 and `Number(' 1')` is 1, neither is accepted. */
export const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

/** The `cursor` of a keyset-paginated listing: the previous page's opaque `nextCursor`. */
export const PageCursor = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ description: 'nextCursor of the previous page' }),
    IsOptional(),
    IsString(),
    MaxLength(200),
  );

/** The `limit` of a listing: 1 to `max` items, `byDefault` when absent. */
export const PageLimit = (max: number, byDefault: number): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: max, default: byDefault }),
    IsOptional(),
    Transform(toInt),
    IsInt(),
    Min(1),
    Max(max),
  );
