import { Injectable } from '@nestjs/common';
import { isCountryCode, isCurrencyCode } from '../common/countries';
import { ValidationFailedError } from '../common/errors/domain-error';
import { CachedTable } from '../infra/cache/cached-table';
import { TwoLevelCache } from '../infra/cache/two-level-cache.service';
import { ShippingMethodNotFoundError, ShippingNotAvailableError } from './shipping.errors';
import { ShippingRepository } from './shipping.repository';
import type { ShippingCharge, ShippingMethodInput, ShippingMethodView } from './shipping.types';

const KEY = 'shipping:methods';
/** Admin edits reach every instance at once (broadcast); a lost broadcast heals within l1Ms. */
const TTL = { l1Ms: 5000, l2Ms: 60_000, negativeMs: 1000 };
export const MAX_SHIPPING_PRICE = 100_000_000;

/**
 * Shipping methods: admin-managed flat rates per country set, free above an optional threshold
 * (a CachedTable: all, create, update, delete). Orders keep their copy of a method; deleting it
 * only stops new orders from choosing it.
 */
@Injectable()
export class ShippingService extends CachedTable<
  ShippingMethodView,
  ShippingMethodInput,
  Required<ShippingMethodInput>
> {
  constructor(repo: ShippingRepository, cache: TwoLevelCache) {
    super(cache, {
      key: KEY,
      ttl: TTL,
      check: checkInput,
      notFound: (id) => new ShippingMethodNotFoundError(id),
      repo,
    });
  }

  /** Active methods that ship to `country` (and charge in `currency`, when given). */
  async availableFor(country: string, currency?: string): Promise<ShippingMethodView[]> {
    if (!isCountryCode(country))
      throw new ValidationFailedError('country: must be an ISO 3166-1 alpha-2 code (e.g. DE)');
    return (await this.all()).filter(
      (m) => m.active && m.countries.includes(country) && (!currency || m.currency === currency),
    );
  }

  /**
   * What the order pays for `code` to `country`. `goods` is what the free-shipping threshold is
   * compared with: the goods' total after discount, in the order's currency.
   */
  async charge(code: string, country: string, currency: string, goods: number): Promise<ShippingCharge> {
    const m = (await this.all()).find((x) => x.code === code);
    if (!m || !m.active) throw new ShippingNotAvailableError(code, 'no such method');
    if (!m.countries.includes(country))
      throw new ShippingNotAvailableError(code, `does not ship to ${country}`, { country });
    if (m.currency !== currency)
      throw new ShippingNotAvailableError(code, `charges in ${m.currency}, the order is in ${currency}`, {
        currency,
      });
    const free = m.freeAbove !== null && goods >= m.freeAbove;
    return { code: m.code, name: m.name, amount: free ? 0 : m.price, currency };
  }
}

function checkInput(i: ShippingMethodInput): Required<ShippingMethodInput> {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(i.code ?? '')) problems.push('code: 1-64 of A-Z a-z 0-9 . _ -');
  if (typeof i.name !== 'string' || !i.name.trim() || i.name.length > 100)
    problems.push('name: 1-100 characters');
  if (!Number.isSafeInteger(i.price) || i.price < 0 || i.price > MAX_SHIPPING_PRICE)
    problems.push(`price: an integer from 0 to ${MAX_SHIPPING_PRICE} (minor units)`);
  if (!isCurrencyCode(i.currency)) problems.push('currency: three upper-case letters (ISO 4217)');
  const freeAbove = i.freeAbove ?? null;
  if (freeAbove !== null && (!Number.isSafeInteger(freeAbove) || freeAbove < 0 || freeAbove > 2 ** 42))
    problems.push('freeAbove: a non-negative integer (minor units) or null');
  const countries = Array.isArray(i.countries) ? [...new Set(i.countries)] : [];
  if (!countries.length || countries.length > 249 || !countries.every(isCountryCode))
    problems.push('countries: 1-249 ISO 3166-1 alpha-2 codes');
  if (problems.length) throw new ValidationFailedError(problems[0], problems);
  return {
    code: i.code,
    name: i.name.trim(),
    price: i.price,
    currency: i.currency,
    freeAbove,
    countries: countries.sort(),
    active: i.active ?? true,
  };
}
