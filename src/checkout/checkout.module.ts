import { Module } from '@nestjs/common';
import { AddressesModule } from '../addresses/addresses.module';
import { CatalogModule } from '../catalog/catalog.module';
import { CouponsModule } from '../coupons/coupons.module';
import { ShippingModule } from '../shipping/shipping.module';
import { TaxModule } from '../tax/tax.module';
import { CheckoutService } from './checkout.service';

/** Pricing of orders and quotes (lines, discount, shipping, tax, total). Orders uses it. */
@Module({
  imports: [CatalogModule, AddressesModule, ShippingModule, TaxModule, CouponsModule],
  providers: [CheckoutService],
  exports: [CheckoutService],
})
export class CheckoutModule {}
