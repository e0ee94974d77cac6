/** The shipping module's public API. */
export { ShippingModule } from './shipping.module';
export { ShippingService } from './shipping.service';
export type { ShippingCharge, ShippingMethodView } from './shipping.types';
export { ShippingNotAvailableError } from './shipping.errors';
