import { AdminController, CreateRoute, DeleteRoute, ReadRoute, UpdateRoute } from '../infra/http/routes';
import { Body, Param } from '@nestjs/common';
import { CreateTaxRateDto, TaxRateDto, TaxRateListDto, UpdateTaxRateDto } from './tax.dto';
import { TaxService } from './tax.service';
import type { TaxRateView } from './tax.types';

@AdminController('tax', 'admin/tax-rates')
export class AdminTaxController {
  constructor(private readonly tax: TaxService) {}

  @ReadRoute({ type: TaxRateListDto, summary: 'Every tax rate, and whether prices include tax (admin)' })
  async list(): Promise<{ items: TaxRateView[]; pricesIncludeTax: boolean; homeCountry: string }> {
    return {
      items: await this.tax.all(),
      pricesIncludeTax: this.tax.pricesIncludeTax,
      homeCountry: this.tax.homeCountry,
    };
  }

  @CreateRoute({
    type: TaxRateDto,
    summary: 'Create a tax rate for a country (and category) (admin); 409 TAX_RATE_EXISTS',
    conflicts: ['TAX_RATE_EXISTS'],
  })
  create(@Body() body: CreateTaxRateDto): Promise<TaxRateView> {
    return this.tax.create(body);
  }

  @UpdateRoute({
    type: TaxRateDto,
    summary: 'Change a tax rate (admin); placed orders keep the tax they were charged',
  })
  update(@Param('id') id: string, @Body() body: UpdateTaxRateDto): Promise<TaxRateView> {
    return this.tax.update(id, body);
  }

  @DeleteRoute({ summary: 'Delete a tax rate (admin)' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.tax.delete(id);
  }
}
