import { Injectable } from '@nestjs/common';
import { isCountryCode } from '../common/countries';
import { ValidationFailedError } from '../common/errors/domain-error';
import { isUuid } from '../common/uuid';
import { CachedTable } from '../infra/cache/cached-table';
import { TwoLevelCache } from '../infra/cache/two-level-cache.service';
import { AppConfig } from '../infra/config/app-config';
import { BP, lineTax } from './tax-math';
import { TaxRateNotFoundError } from './tax.errors';
import { TaxRepository } from './tax.repository';
import type { TaxRateInput, TaxRateView, Taxable, TaxedAmount } from './tax.types';

const KEY = 'tax:rates';
const TTL = { l1Ms: 5000, l2Ms: 60_000, negativeMs: 1000 };

/**
 * Tax rates and the tax of each amount. Whether catalog prices include tax is the shop's
 * setting (PRICES_INCLUDE_TAX): gross prices contain the tax (the total does not change, the tax
 * is shown as included), net prices get it added. A country without a rate is taxed at 0. The
 * rates are a CachedTable (all, create, update, delete).
 */
@Injectable()
export class TaxService extends CachedTable<TaxRateView, TaxRateInput, TaxRateInput> {
  constructor(
    repo: TaxRepository,
    cache: TwoLevelCache,
    private readonly config: AppConfig,
  ) {
    super(cache, {
      key: KEY,
      ttl: TTL,
      check: checkInput,
      notFound: (id) => new TaxRateNotFoundError(id),
      repo,
    });
  }

  /** Whether catalog prices (and shipping prices) include tax. */
  get pricesIncludeTax(): boolean {
    return this.config.commerce.pricesIncludeTax;
  }

  /** The shop's home country: orders without a shipping address are taxed there. */
  get homeCountry(): string {
    return this.config.commerce.shopCountry;
  }

  /**
   * Each amount's rate and tax for `country`: the rate of the item's category there if one is
   * set, else the country's standard rate, else 0. Rounded per amount (tax-math.ts).
   */
  async taxFor(country: string, items: Taxable[]): Promise<TaxedAmount[]> {
    const rates = (await this.all()).filter((r) => r.country === country);
    const standard = rates.find((r) => r.categoryId === null)?.rateBp ?? 0;
    return items.map((it) => {
      const own = it.categoryId ? rates.find((r) => r.categoryId === it.categoryId) : undefined;
      const rateBp = own?.rateBp ?? standard;
      return { rateBp, tax: lineTax(it.amount, rateBp, this.pricesIncludeTax) };
    });
  }
}

function checkInput(i: TaxRateInput): TaxRateInput {
  const problems: string[] = [];
  if (!isCountryCode(i.country)) problems.push('country: an ISO 3166-1 alpha-2 code');
  if (i.categoryId !== undefined && i.categoryId !== null && !isUuid(i.categoryId))
    problems.push('categoryId: a category id or null');
  if (typeof i.name !== 'string' || !i.name.trim() || i.name.length > 100)
    problems.push('name: 1-100 characters');
  if (!Number.isInteger(i.rateBp) || i.rateBp < 0 || i.rateBp > BP)
    problems.push(`rateBp: an integer from 0 to ${BP} (basis points, 1900 = 19 %)`);
  if (problems.length) throw new ValidationFailedError(problems[0], problems);
  return {
    country: i.country,
    categoryId: i.categoryId?.toLowerCase() ?? null,
    name: i.name.trim(),
    rateBp: i.rateBp,
  };
}
