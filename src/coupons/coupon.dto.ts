import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { SKU_PATTERN } from '../common/order-size';
import { MAX_RESTRICTIONS } from './coupons.service';
import { IdProperty, OptionalCurrencyCode, OptionalFlag, OptionalInt } from '../infra/http/dto-properties';

export class CreateCouponDto {
  @ApiProperty({ example: 'WELCOME20', description: '3-64 of A-Z 0-9 _ -; matched case-insensitively' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{3,64}$/, { message: 'code must be 3-64 of A-Z a-z 0-9 _ -' })
  code!: string;

  @ApiProperty({ enum: ['percentage', 'fixed'], example: 'percentage' })
  @IsIn(['percentage', 'fixed'])
  kind!: 'percentage' | 'fixed';

  @OptionalInt(1, 100, {
    type: Number,
    nullable: true,
    example: 20,
    description: 'percentage coupons: 1-100',
  })
  percentOff?: number | null;

  @OptionalInt(1, 2 ** 42, {
    type: Number,
    nullable: true,
    example: 500,
    description: 'fixed coupons: minor units',
  })
  amountOff?: number | null;

  @OptionalCurrencyCode({
    type: String,
    nullable: true,
    example: 'EUR',
    description: 'Required for fixed coupons and a minimum subtotal',
  })
  currency?: string | null;

  @OptionalInt(0, 2 ** 42, {
    example: 2000,
    description: 'The goods must cost at least this (minor units, before discount)',
  })
  minSubtotal?: number;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00.000Z', description: 'Default: now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  startsAt?: string;

  @ApiPropertyOptional({ type: String, example: '2026-12-31T23:59:59.000Z', nullable: true })
  @IsOptional()
  @IsISO8601({ strict: true })
  endsAt?: string | null;

  @OptionalInt(1, 1_000_000_000, {
    type: Number,
    example: 100,
    nullable: true,
    description: 'Orders that may use it in total; null = unlimited',
  })
  usageLimit?: number | null;

  @OptionalInt(1, 1_000_000_000, {
    type: Number,
    example: 1,
    nullable: true,
    description: 'Orders one customer may use it for; null = unlimited',
  })
  perCustomerLimit?: number | null;

  @ApiPropertyOptional({
    type: [String],
    example: ['TSHIRT-M'],
    nullable: true,
    description: 'Only these SKUs are discounted',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RESTRICTIONS)
  @Matches(SKU_PATTERN, { each: true, message: 'skus must be SKUs' })
  skus?: string[] | null;

  @ApiPropertyOptional({
    type: [String],
    example: null,
    nullable: true,
    description: 'Only products of these categories (or their subcategories) are discounted',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(MAX_RESTRICTIONS)
  @IsUUID('all', { each: true })
  categoryIds?: string[] | null;

  @OptionalFlag()
  active?: boolean;
}

export class UpdateCouponDto extends PartialType(CreateCouponDto) {}

export class CouponDto extends CreateCouponDto {
  @IdProperty() id!: string;
  @ApiProperty({
    example: 12,
    description: 'Orders holding a use now (a cancelled or expired order gives its use back)',
  })
  used!: number;
}

export class CouponPageDto {
  @ApiProperty({ type: [CouponDto] }) items!: CouponDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class ListCouponsQuery {
  @ApiPropertyOptional({ example: 50, minimum: 1, maximum: 100 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,4}$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsUUID()
  cursor?: string;
}
