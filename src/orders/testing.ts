/**
 * What only test/, scripts/ and bench/ may import from the orders module (internals a test drives
 * or asserts on). Application code uses `./index.ts`; dependency-cruiser forbids importing this
 * file from src/.
 */
export { OrderWatchers } from './order-watchers.service';
export { OutboxRelay } from './outbox.relay';
export { OutboxHousekeeping } from './outbox.housekeeping';
export { OrderExpiryProcessor } from './order-expiry.processor';
export { normalizeItems } from './order-input';
export { requestHash } from './idempotency.store';
export { ListOrdersQueryDto } from './orders.dto';
