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
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { LISTING_SORTS, ListingSort, MAX_LIMIT } from './listing-query';

const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const MAX_PRICE = 2_000_000_000;

/** Query strings arrive as strings; numbers must be plain decimal integers (no "1e3", no "12abc"). */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d{1,12}$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListProductsQuery {
  @ApiPropertyOptional({ description: 'Full-text search over name and description' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ description: 'Category id; products of its descendants are included' })
  @IsOptional()
  @IsUUID()
  categoryId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(120)
  brand?: string;

  @ApiPropertyOptional({ description: 'Minor units, inclusive' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE)
  minPrice?: number;

  @ApiPropertyOptional({ description: 'Minor units, inclusive' })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE)
  maxPrice?: number;

  @ApiPropertyOptional({ description: 'Only products with a variant in stock' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  inStock?: boolean;

  @ApiPropertyOptional({ enum: LISTING_SORTS, description: 'Default: relevance with q, newest without' })
  @IsOptional()
  @IsIn(LISTING_SORTS)
  sort?: ListingSort;

  @ApiPropertyOptional({ description: 'Opaque; the nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
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

  @ApiProperty({ example: 1999, description: 'Minor units' })
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE)
  price!: number;

  @ApiProperty({ example: 'EUR' })
  @Matches(/^[A-Z]{3}$/, { message: 'currency: ISO 4217 code' })
  currency!: string;

  @ApiPropertyOptional({
    example: 100,
    description: 'Initial stock (create only; later via PUT /inventory/:sku)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000_000)
  stockOnHand?: number;
}

class ProductFieldsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Matches(SLUG)
  @MaxLength(220)
  slug?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  description?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(120)
  brand?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
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

  @ApiProperty({ type: [VariantDto] })
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

  @ApiPropertyOptional({ type: [VariantDto], description: 'Upserted by sku: new price, or a new variant' })
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

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  parentId?: string;
}

export class ProductListItemDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() slug!: string;
  @ApiProperty({ nullable: true, type: String }) brand!: string | null;
  @ApiProperty({ nullable: true, type: String }) categoryId!: string | null;
  @ApiProperty({ description: 'Cheapest variant, minor units' }) price!: number;
  @ApiProperty() currency!: string;
  @ApiProperty() createdAt!: string;
}

export class ProductPageDto {
  @ApiProperty({ type: [ProductListItemDto] }) items!: ProductListItemDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

class VariantViewDto {
  @ApiProperty() sku!: string;
  @ApiProperty() price!: number;
  @ApiProperty() currency!: string;
}

export class ProductDetailDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() slug!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ nullable: true, type: String }) brand!: string | null;
  @ApiProperty({ nullable: true, type: String }) categoryId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) attributes!: Record<string, unknown>;
  @ApiProperty({ enum: ['draft', 'active', 'archived'] }) status!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: [VariantViewDto] }) variants!: VariantViewDto[];
}
