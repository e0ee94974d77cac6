import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { LISTING_SORTS, ListingSort, MAX_LIMIT, MAX_PRICE } from './listing-query';
import { MinorUnits, OptionalId, OptionalInt, OptionalText } from '../infra/http/dto-properties';

const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Query strings arrive as strings; numbers must be plain decimal integers (no "1e3", no "12abc"). */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d{1,12}$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

/** A price bound of a listing query: minor units, inclusive. */
const PriceBound = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({ description: 'Minor units, inclusive' }),
    IsOptional(),
    Transform(toInt),
    IsInt(),
    Min(0),
    Max(MAX_PRICE),
  );

export class ListProductsQuery {
  @OptionalText(200, { description: 'Full-text search over name and description', example: 'cotton shirt' })
  q?: string;

  @OptionalId({
    description: 'Category id; products of its descendants are included',
    example: '0190a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40',
  })
  categoryId?: string;

  @OptionalText(120)
  brand?: string;

  @PriceBound()
  minPrice?: number;

  @PriceBound()
  maxPrice?: number;

  @ApiPropertyOptional({ description: 'Only products with a variant in stock', example: true })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  inStock?: boolean;

  @ApiPropertyOptional({ enum: LISTING_SORTS, description: 'Default: relevance with q, newest without' })
  @IsOptional()
  @IsIn(LISTING_SORTS)
  sort?: ListingSort;

  @OptionalText(512, {
    description: 'Opaque; the nextCursor of the previous page',
    example: 'eyJrIjoxNzAwMDAwMDAwMDAwfQ',
  })
  cursor?: string;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_LIMIT,
    default: 20,
    description: `Above ${MAX_LIMIT} is a 400`,
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;
}

export class VariantDto {
  @ApiProperty({ example: 'TSHIRT-M' })
  @Matches(SKU, { message: 'sku: letters, digits, . _ - (max 64)' })
  sku!: string;

  @MinorUnits(MAX_PRICE, 1999)
  price!: number;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency: ISO 4217 code' })
  currency!: string;

  @OptionalInt(0, 1_000_000_000, {
    example: 100,
    description: 'Initial stock (create only; later via PUT /inventory/:sku)',
  })
  stockOnHand?: number;
}

class ProductFieldsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(SLUG)
  @MaxLength(220)
  slug?: string;

  @OptionalText(20_000)
  description?: string;

  @OptionalText(120)
  brand?: string;

  @OptionalId()
  categoryId?: string;

  @ApiPropertyOptional({ example: { color: 'blue' } })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional({ enum: ['draft', 'active', 'archived'], default: 'active' })
  @IsOptional()
  @IsIn(['draft', 'active', 'archived'])
  status?: 'draft' | 'active' | 'archived';
}

export class CreateProductDto extends ProductFieldsDto {
  @ApiProperty({ example: 'Organic cotton T-shirt' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    type: [VariantDto],
    example: [{ sku: 'TSHIRT-M', price: 1999, currency: 'EUR', stockOnHand: 100 }],
  })
  @IsObject({ each: true }) // ValidateNested alone lets `[[]]` through to the service
  @ValidateNested({ each: true })
  @Type(() => VariantDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  variants!: VariantDto[];
}

export class UpdateProductDto extends ProductFieldsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    type: [VariantDto],
    description: 'Upserted by sku: new price, or a new variant',
    example: [{ sku: 'TSHIRT-M', price: 1799, currency: 'EUR' }],
  })
  @IsOptional()
  @IsObject({ each: true })
  @ValidateNested({ each: true })
  @Type(() => VariantDto)
  @ArrayMaxSize(100)
  variants?: VariantDto[];
}

export class CreateCategoryDto {
  @ApiProperty({ example: 'Shoes' })
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(SLUG)
  @MaxLength(140)
  slug?: string;

  @OptionalId()
  parentId?: string;
}

export class ProductListItemDto {
  @ApiProperty({ example: '0190a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40' }) id!: string;
  @ApiProperty({ example: 'Organic cotton T-shirt' }) name!: string;
  @ApiProperty({ example: 'organic-cotton-t-shirt' }) slug!: string;
  @ApiProperty({ nullable: true, type: String, example: 'Acme' }) brand!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '0190a5b0-0000-7000-8000-000000000001' })
  categoryId!: string | null;
  @ApiProperty({ description: 'Cheapest variant, minor units', example: 1999 }) price!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ example: '2026-11-23T10:15:30.000Z' }) createdAt!: string;
}

export class ProductPageDto {
  @ApiProperty({ type: [ProductListItemDto] }) items!: ProductListItemDto[];
  @ApiProperty({ nullable: true, type: String, example: 'eyJrIjoxNzAwMDAwMDAwMDAwfQ' }) nextCursor!:
    string | null;
}

class VariantViewDto {
  @ApiProperty({ example: 'TSHIRT-M' }) sku!: string;
  @ApiProperty({ example: 1999, description: 'Minor units' }) price!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
}

export class ProductDetailDto {
  @ApiProperty({ example: '0190a5b0-7c1e-7a3d-9f2e-4b8c1d2e3f40' }) id!: string;
  @ApiProperty({ example: 'Organic cotton T-shirt' }) name!: string;
  @ApiProperty({ example: 'organic-cotton-t-shirt' }) slug!: string;
  @ApiProperty({ nullable: true, type: String, example: 'Soft, breathable, fair trade.' }) description!:
    string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Acme' }) brand!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '0190a5b0-0000-7000-8000-000000000001' })
  categoryId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { color: 'blue' } })
  attributes!: Record<string, unknown>;
  @ApiProperty({ enum: ['draft', 'active', 'archived'], example: 'active' }) status!: string;
  @ApiProperty({ example: '2026-11-23T10:15:30.000Z' }) createdAt!: string;
  @ApiProperty({ type: [VariantViewDto] }) variants!: VariantViewDto[];
}
