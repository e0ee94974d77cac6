export { InventoryModule } from './inventory.module';
export { InventoryService, DEFAULT_LOW_STOCK_THRESHOLD, normalizeLines } from './inventory.service';
export { inStockSql } from './inventory.repository';
export type { StockLine, StockView } from './inventory.types';
export { InsufficientStockError, InventoryStateError, OnHandBelowReservedError } from './inventory.errors';
