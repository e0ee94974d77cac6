import { CrudRoutes } from '../infra/http/crud-routes';
import { AdminController, ReadRoute } from '../infra/http/routes';
import { CreateTaxRateDto, TaxRateDto, TaxRateListDto, UpdateTaxRateDto } from './tax.dto';
import { TaxService } from './tax.service';
import type { TaxRateView } from './tax.types';

@AdminController('tax', 'admin/tax-rates')
export class AdminTaxController extends CrudRoutes(TaxService, {
  view: TaxRateDto,
  create: {
    body: CreateTaxRateDto,
    summary: 'Create a tax rate for a country (and category) (admin); 409 TAX_RATE_EXISTS',
    conflicts: ['TAX_RATE_EXISTS'],
  },
  update: {
    body: UpdateTaxRateDto,
    summary: 'Change a tax rate (admin); placed orders keep the tax they were charged',
  },
  delete: { summary: 'Delete a tax rate (admin)' },
}) {
  @ReadRoute({ type: TaxRateListDto, summary: 'Every tax rate, and whether prices include tax (admin)' })
  async list(): Promise<{ items: TaxRateView[]; pricesIncludeTax: boolean; homeCountry: string }> {
    return {
      items: await this.service.all(),
      pricesIncludeTax: this.service.pricesIncludeTax,
      homeCountry: this.service.homeCountry,
    };
  }
}
