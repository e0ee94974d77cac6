/**
 * What only test/, scripts/ and bench/ may import from the flash-sale module (internals a test
 * drives or asserts on, the Lua purchase script the bench runs bare). Application code uses
 * `./index.ts`; dependency-cruiser forbids importing this file from src/.
 */
export { FlashSaleStore } from './flash-sale.store';
export { FlashSaleDefinitions } from './flash-sale-definitions';
export { FlashSalePersistence } from './flash-sale-persistence.service';
export { FlashSaleSettlement } from './flash-sale-settlement.service';
export { PURCHASE, PURCHASE_SCRIPT } from './flash-sale.scripts';
