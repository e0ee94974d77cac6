import { Injectable } from '@nestjs/common';
import { NotFoundError, ValidationFailedError } from '../common/errors/domain-error';
import { DbRouter } from '../infra/database/db-router.service';
import { WriteBatch } from '../infra/database/write-batch';
import { InventoryRepository, StockMove } from './inventory.repository';
import { InventoryStateError, OnHandBelowReservedError } from './inventory.errors';
import { LowStockCrossing, StockLine, StockView } from './inventory.types';
import { LowStockAlerts } from './low-stock-alerts';

export const DEFAULT_LOW_STOCK_THRESHOLD = 5;

/**
 * Merges lines per SKU and sorts them by SKU. Every transaction touching several SKUs locks
 * their rows in this one order, so two orders over the same SKUs in opposite order wait for
 * each other instead of deadlocking.
 */
export function normalizeLines(lines: StockLine[]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const l of lines) {
    if (typeof l.sku !== 'string' || !l.sku || !Number.isSafeInteger(l.quantity) || l.quantity <= 0)
      throw new ValidationFailedError(
        `Invalid stock line for SKU ${String(l.sku)}: quantity must be a positive integer`,
      );
    bySku.set(l.sku, (bySku.get(l.sku) ?? 0) + l.quantity);
  }
  return [...bySku]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * Stock per SKU. Every change is one conditional UPDATE whose affected-row count decides
 * (never read-modify-write), plus a row in the movements ledger, in the caller's transaction
 * when there is one (DbRouter.transaction joins it); the statements are InventoryRepository's.
 */
@Injectable()
export class InventoryService {
  constructor(
    private readonly db: DbRouter,
    private readonly repo: InventoryRepository,
    private readonly alerts: LowStockAlerts,
  ) {}

  /** Creates the stock row if absent (existing rows are left alone). */
  async ensureStock(
    sku: string,
    onHand: number,
    lowStockThreshold = DEFAULT_LOW_STOCK_THRESHOLD,
  ): Promise<void> {
    if (
      !Number.isSafeInteger(onHand) ||
      onHand < 0 ||
      !Number.isSafeInteger(lowStockThreshold) ||
      lowStockThreshold < 0
    )
      throw new ValidationFailedError(`Invalid initial stock for SKU ${sku}`);
    await this.db.transaction(async () => {
      if ((await this.repo.createIfAbsent(sku, onHand, lowStockThreshold)) && onHand > 0)
        await this.repo.recordOnHand('initial', [{ sku, quantity: onHand }], 1);
    });
  }

  /** Holds stock for an order: all lines or none (throws InsufficientStockError, the transaction rolls back). */
  async reserve(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    const merged = normalizeLines(lines);
    if (!merged.length) return;
    await this.db.transaction(async () => {
      const crossed = new Map<string, LowStockCrossing>();
      await this.repo.reserve(merged, ref.orderId, crossed);
      if (crossed.size) this.alertAfterCommit([...crossed.values()]);
    });
  }

  /**
   * The same reservation added to the caller's WriteBatch, to commit with its other writes.
   * Put it last in the batch: the stock rows are then locked only from these statements to
   * the COMMIT right after them.
   */
  reserveIn(batch: WriteBatch, lines: StockLine[], ref: { orderId: string }): void {
    const merged = normalizeLines(lines);
    if (!merged.length) return;
    const crossed = new Map<string, LowStockCrossing>();
    batch.add(...this.repo.reserveStatements(merged, ref.orderId, crossed));
    // Background: an alert must never delay the sale that caused it.
    batch.afterCommit(() => crossed.size && this.alerts.send([...crossed.values()]), { background: true });
  }

  /** The order is paid: the reserved units leave the warehouse. */
  async commit(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    await this.apply('commit', lines, ref);
  }

  /** The order was cancelled or expired: its reservation is given back. */
  async release(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    await this.apply('release', lines, ref);
  }

  /** A refund that returns the goods to stock. */
  async restock(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    await this.apply('restock', lines, ref);
  }

  /** Current stock, read on the primary (stock moves too fast for a lagging replica to be useful here). */
  get(sku: string): Promise<StockView | undefined> {
    return this.repo.find(sku);
  }

  /** Available units per SKU for display (replica; unknown SKUs are absent from the map). */
  availability(skus: string[]): Promise<Map<string, number>> {
    return this.repo.availability([...new Set(skus)]);
  }

  /**
   * SQL condition "this variant has stock", for modules that filter listings by availability
   * without knowing this module's tables. `skuColumn` is a trusted column reference.
   */
  inStockSql(skuColumn: string): string {
    return this.repo.inStockSql(skuColumn);
  }

  /** Admin correction. onHand below what is reserved → 409 ON_HAND_BELOW_RESERVED. */
  async adjust(sku: string, patch: { onHand?: number; lowStockThreshold?: number }): Promise<StockView> {
    return this.db.transaction(async () => {
      // The row lock makes the ledger delta exact; admin adjustments are rare, so FOR UPDATE is fine here.
      const before = await this.repo.lock(sku);
      if (!before) throw new NotFoundError(`Inventory for SKU ${sku}`);
      const onHand = patch.onHand ?? before.onHand;
      const threshold = patch.lowStockThreshold ?? before.lowStockThreshold;
      if (onHand < before.reserved) throw new OnHandBelowReservedError(sku, onHand, before.reserved);
      if (!(await this.repo.setLevels(sku, onHand, threshold)))
        throw new OnHandBelowReservedError(sku, onHand, before.reserved);
      const delta = onHand - before.onHand;
      if (delta !== 0)
        await this.repo.recordOnHand('adjust', [{ sku, quantity: Math.abs(delta) }], Math.sign(delta));
      const after: StockView = {
        ...before,
        onHand,
        lowStockThreshold: threshold,
        available: onHand - before.reserved,
      };
      if (before.available >= before.lowStockThreshold && after.available < after.lowStockThreshold)
        this.alertAfterCommit([after]);
      return after;
    });
  }

  /** The alert goes out once the transaction that crossed the threshold has committed (decision 0013). */
  private alertAfterCommit(crossed: LowStockCrossing[]): void {
    this.db.afterCommit(() => this.alerts.send(crossed), { background: true });
  }

  /** Every line's conditional UPDATE (each must match its row), then the ledger rows, in one transaction. */
  private async apply(kind: StockMove, lines: StockLine[], ref: { orderId: string }): Promise<void> {
    const merged = normalizeLines(lines);
    if (!merged.length) return;
    await this.db.transaction(async () => {
      for (const { sku, quantity } of merged)
        if (!(await this.repo.move(kind, sku, quantity))) throw new InventoryStateError(sku, kind);
      await this.repo.recordMove(kind, merged, ref.orderId);
    });
  }
}
