import { ApiErrorCodes } from '../infra/http/openapi-errors';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { CreateTaxRateDto, TaxRateDto, TaxRateListDto, UpdateTaxRateDto } from './tax.dto';
import { TaxService } from './tax.service';
import type { TaxRateView } from './tax.types';

@ApiTags('tax')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/tax-rates')
export class AdminTaxController {
  constructor(private readonly tax: TaxService) {}

  @Get()
  @ApiOperation({ summary: 'Every tax rate, and whether prices include tax (admin)' })
  @ApiOkResponse({ type: TaxRateListDto })
  async list(): Promise<{ items: TaxRateView[]; pricesIncludeTax: boolean; homeCountry: string }> {
    return {
      items: await this.tax.all(),
      pricesIncludeTax: this.tax.pricesIncludeTax,
      homeCountry: this.tax.homeCountry,
    };
  }

  @Post()
  @ApiOperation({ summary: 'Create a tax rate for a country (and category) (admin); 409 TAX_RATE_EXISTS' })
  @ApiErrorCodes({ 409: ['TAX_RATE_EXISTS'] })
  @ApiCreatedResponse({ type: TaxRateDto })
  create(@Body() body: CreateTaxRateDto): Promise<TaxRateView> {
    return this.tax.create(body);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a tax rate (admin); placed orders keep the tax they were charged' })
  @ApiOkResponse({ type: TaxRateDto })
  update(@Param('id') id: string, @Body() body: UpdateTaxRateDto): Promise<TaxRateView> {
    return this.tax.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a tax rate (admin)' })
  @ApiNoContentResponse()
  async remove(@Param('id') id: string): Promise<void> {
    await this.tax.delete(id);
  }
}
