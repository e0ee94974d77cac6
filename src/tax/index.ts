/** The tax module's public API. */
export { TaxModule } from './tax.module';
export { TaxService } from './tax.service';
export { lineTax, allocate, divRoundHalfUp } from './tax-math';
export type { Taxable, TaxedAmount, TaxRateView } from './tax.types';
