import { ConflictError } from '../common/errors/domain-error';

export class InsufficientStockError extends ConflictError {
  constructor(
    readonly sku: string,
    readonly requested: number,
    readonly available: number,
  ) {
    super('INSUFFICIENT_STOCK', `Not enough stock for SKU ${sku}`, { sku, requested, available });
  }
}

/** A commit/release/restock that does not match the stored counters (e.g. releasing twice). */
export class InventoryStateError extends ConflictError {
  constructor(sku: string, action: string) {
    super('INVENTORY_CONFLICT', `Cannot ${action} stock for SKU ${sku}: counters do not allow it`, { sku });
  }
}

export class OnHandBelowReservedError extends ConflictError {
  constructor(sku: string, onHand: number, reserved: number) {
    super(
      'ON_HAND_BELOW_RESERVED',
      `onHand ${onHand} is below the ${reserved} units reserved for SKU ${sku}`,
      {
        sku,
        onHand,
        reserved,
      },
    );
  }
}
