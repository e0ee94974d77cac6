import { ApiProperty, PartialType } from '@nestjs/swagger';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { CountryCode, IdProperty, OptionalId } from '../infra/http/dto-properties';

export class CreateTaxRateDto {
  @CountryCode({ example: 'DE', description: 'ISO 3166-1 alpha-2' })
  country!: string;

  @OptionalId({
    type: String,
    example: null,
    nullable: true,
    description:
      "A category id for a reduced rate (the product's own category); null = the country's standard rate",
  })
  categoryId?: string | null;

  @ApiProperty({ example: 'MwSt. 19 %' })
  @IsString()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ example: 1900, description: 'Basis points (1900 = 19 %), 0-10000' })
  @IsInt()
  @Min(0)
  @Max(10000)
  rateBp!: number;
}

export class UpdateTaxRateDto extends PartialType(CreateTaxRateDto) {}

export class TaxRateDto extends CreateTaxRateDto {
  @IdProperty() id!: string;
}

export class TaxRateListDto {
  @ApiProperty({ type: [TaxRateDto] }) items!: TaxRateDto[];
  @ApiProperty({ example: true, description: 'PRICES_INCLUDE_TAX: catalog and shipping prices include tax' })
  pricesIncludeTax!: boolean;
  @ApiProperty({ example: 'DE', description: 'SHOP_COUNTRY: where orders without an address are taxed' })
  homeCountry!: string;
}
