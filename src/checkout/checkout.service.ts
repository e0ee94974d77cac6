import { Injectable } from '@nestjs/common';
import { AddressesService, PostalAddress, normalizeAddress } from '../addresses';
import { CatalogService } from '../catalog';
import { ValidationFailedError } from '../common/errors/domain-error';
import { CouponDiscount, CouponsService } from '../coupons';
import { ShippingService } from '../shipping';
import { TaxService } from '../tax';
import {
  CheckoutMixedCurrenciesError,
  CheckoutSkuInactiveError,
  CheckoutSkuNotFoundError,
} from './checkout.errors';
import type { CheckoutOptions, PricedLine, PricedOrder } from './checkout.types';
import { totalOf } from './pricing';

/**
 * Prices an order: catalog prices now, the coupon's discount, the shipping method's charge and
 * the tax of every line and of the shipping (docs/checkout.md). The same function serves
 * quotes and orders, so an order costs exactly what its quote said unless something changed.
 *
 * Without an address (items-only API orders, as before checkout existed) there is no shipping
 * line and tax is computed for the shop's home country (SHOP_COUNTRY).
 */
@Injectable()
export class CheckoutService {
  constructor(
    private readonly catalog: CatalogService,
    private readonly addresses: AddressesService,
    private readonly shipping: ShippingService,
    private readonly tax: TaxService,
    private readonly coupons: CouponsService,
  ) {}

  /** Checks the options' shape (before any read): one address source, a method exactly with an address. */
  checkOptions(o: CheckoutOptions): void {
    if (o.addressId !== undefined && o.shippingAddress !== undefined)
      throw new ValidationFailedError('Give addressId or shippingAddress, not both');
    const hasAddress = o.addressId !== undefined || o.shippingAddress !== undefined;
    if (hasAddress && !o.shippingMethod)
      throw new ValidationFailedError('shippingMethod: required with an address');
    if (!hasAddress && o.shippingMethod)
      throw new ValidationFailedError(
        'shippingMethod: give an address (addressId or shippingAddress) to ship to',
      );
  }

  /**
   * `lines` are normalized order lines (merged per SKU, sorted). `checkCounters`: a quote reads
   * the coupon's live counters for an early COUPON_EXHAUSTED; an order leaves that to its batch.
   */
  async price(
    userId: string,
    lines: { sku: string; quantity: number }[],
    o: CheckoutOptions,
    opts: { checkCounters: boolean },
  ): Promise<PricedOrder> {
    this.checkOptions(o);
    const [variants, address] = await Promise.all([
      this.catalog.findVariantsBySkus(lines.map((l) => l.sku)),
      this.address(userId, o),
    ]);
    const bySku = new Map(variants.map((v) => [v.sku, v]));
    const unknown = lines.filter((l) => !bySku.has(l.sku)).map((l) => l.sku);
    if (unknown.length) throw new CheckoutSkuNotFoundError(unknown);
    const inactive = lines.filter((l) => !bySku.get(l.sku)!.active).map((l) => l.sku);
    if (inactive.length) throw new CheckoutSkuInactiveError(inactive);
    const currencies = [...new Set(variants.map((v) => v.currency))];
    if (currencies.length > 1) throw new CheckoutMixedCurrenciesError(currencies);
    const currency = currencies[0];

    const base = lines.map((l) => {
      const v = bySku.get(l.sku)!;
      return { l, v, lineTotal: v.price * l.quantity };
    });
    const subtotal = base.reduce((s, b) => s + b.lineTotal, 0);

    let coupon: CouponDiscount | null = null;
    if (o.couponCode !== undefined && o.couponCode !== '')
      coupon = await this.coupons.discount(
        o.couponCode,
        userId,
        base.map((b) => ({ sku: b.l.sku, categoryIds: b.v.categoryIds ?? [], amount: b.lineTotal })),
        currency,
        { checkCounters: opts.checkCounters },
      );
    const discount = coupon?.discount ?? 0;

    const charge =
      address && o.shippingMethod
        ? await this.shipping.charge(o.shippingMethod, address.country, currency, subtotal - discount)
        : null;
    const taxCountry = address?.country ?? this.tax.homeCountry;
    const taxed = await this.tax.taxFor(taxCountry, [
      ...base.map((b, i) => ({
        amount: b.lineTotal - (coupon?.perLine[i] ?? 0),
        categoryId: b.v.categoryId ?? null,
      })),
      { amount: charge?.amount ?? 0 },
    ]);
    const shippingTaxed = taxed.pop()!;
    const priced: PricedLine[] = base.map((b, i) => ({
      sku: b.l.sku,
      productId: b.v.productId,
      productName: b.v.productName,
      quantity: b.l.quantity,
      unitPrice: b.v.price,
      lineTotal: b.lineTotal,
      discount: coupon?.perLine[i] ?? 0,
      taxRateBp: taxed[i].rateBp,
      tax: taxed[i].tax,
    }));
    const shipping = charge?.amount ?? 0;
    const tax = priced.reduce((s, p) => s + p.tax, 0) + shippingTaxed.tax;
    const taxIncluded = this.tax.pricesIncludeTax;
    return {
      currency,
      lines: priced,
      subtotal,
      discount,
      shipping,
      shippingTax: shippingTaxed.tax,
      shippingTaxRateBp: charge ? shippingTaxed.rateBp : 0,
      tax,
      taxIncluded,
      total: totalOf({ subtotal, discount, shipping, tax, taxIncluded }),
      taxCountry,
      shippingAddress: address,
      shippingMethod: charge && { code: charge.code, name: charge.name },
      coupon,
    };
  }

  /** The tax of a flash-sale order's one line (no coupon, no shipping): see OrdersService. */
  async taxLine(country: string | null, amount: number, categoryId: string | null) {
    const taxCountry = country ?? this.tax.homeCountry;
    const [t] = await this.tax.taxFor(taxCountry, [{ amount, categoryId }]);
    return { ...t, taxCountry, taxIncluded: this.tax.pricesIncludeTax };
  }

  private async address(userId: string, o: CheckoutOptions): Promise<PostalAddress | null> {
    if (o.addressId !== undefined) return this.addresses.postalAddress(userId, o.addressId);
    if (o.shippingAddress !== undefined) return normalizeAddress(o.shippingAddress);
    return null;
  }
}
