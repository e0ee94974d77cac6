export { FlashSaleModule } from './flash-sale.module';
export { FlashSaleService } from './flash-sale.service';
export type { ReconcileReport } from './flash-sale.types';
