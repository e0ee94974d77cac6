import { CrudRoutes } from '../infra/http/crud-routes';
import { AdminController, ReadRoute } from '../infra/http/routes';
import { CreateTaxRateDto, TaxRateDto, TaxRateListDto, UpdateTaxRateDto } from './tax.dto';
import { TaxService } from './tax.service';
import type { TaxRateView } from './tax.types';

@AdminController('tax', 'admin/tax-rates')
export class AdminTaxController extends CrudRoutes(TaxService, 'tax rate', {
  dtos: [TaxRateDto, CreateTaxRateDto, UpdateTaxRateDto],
  conflicts: ['TAX_RATE_EXISTS'],
  notes: {
    create: 'one per country, or per country and category',
    update: 'placed orders keep the tax they were charged',
  },
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
