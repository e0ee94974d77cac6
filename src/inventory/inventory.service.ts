import {
  Statement,
  WriteBatch,
  guardRowCount,
  isGuardFailure,
  runStatements,
} from '../infra/database/write-batch';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { NotFoundError, ValidationFailedError } from '../common/errors/domain-error';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';
import { MovementReason } from './inventory-movement.entity';
import { InsufficientStockError, InventoryStateError, OnHandBelowReservedError } from './inventory.errors';
import { StockLine, StockView } from './inventory.types';
import { LowStockAlerts, LowStockCrossing } from './low-stock-alerts';

export const DEFAULT_LOW_STOCK_THRESHOLD = 5;

interface Row {
  sku: string;
  on_hand: number;
  reserved: number;
  low_stock_threshold: number;
}

const toView = (r: Row): StockView => ({
  sku: r.sku,
  onHand: Number(r.on_hand),
  reserved: Number(r.reserved),
  available: Number(r.on_hand) - Number(r.reserved),
  lowStockThreshold: Number(r.low_stock_threshold),
});

/**
 * The reservation of one line, ONE statement: takes `q` units only if that many are available,
 * and reports in the same round trip whether this reservation took the SKU below its low-stock
 * threshold. `LAST_INSERT_ID(expr)` makes the server return `expr` as the statement's insert id
 * (the documented MySQL/MariaDB sequence idiom); here `expr` is `available after + 1` when
 * available went from ≥ threshold to < threshold, else 0, computed from the row as locked by this
 * UPDATE. `LEAST(0, …)` keeps the assigned value unchanged (the id is never negative). One
 * statement instead of UPDATE + SELECT means the hot row is locked for one round trip less —
 * on a flash product that lock is what every checkout queues on.
 * Params: q, q, q, sku, q.
 */
const RESERVE_SQL = `UPDATE inventory_items
    SET reserved = reserved + ? + LEAST(0, LAST_INSERT_ID(
      IF(on_hand - reserved >= low_stock_threshold AND on_hand - reserved - ? < low_stock_threshold,
         on_hand - reserved - ? + 1, 0)))
  WHERE sku = ? AND on_hand - reserved >= ?`;

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
 * when there is one (DbRouter.transaction joins it).
 */
@Injectable()
export class InventoryService {
  constructor(
    private readonly db: DbRouter,
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
    await this.db.transaction(async (em) => {
      const res = await em.query(
        'INSERT IGNORE INTO inventory_items (sku, on_hand, reserved, low_stock_threshold) VALUES (?, ?, 0, ?)',
        [sku, onHand, lowStockThreshold],
      );
      if (affected(res) === 1 && onHand > 0)
        await this.ledger(em, 'initial', [{ sku, quantity: onHand }], null, 1, 0);
    });
  }

  /** Holds stock for an order: all lines or none (throws InsufficientStockError, the transaction rolls back). */
  async reserve(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    const merged = normalizeLines(lines);
    if (!merged.length) return;
    await this.db.transaction(async (em) => {
      const crossed = new Map<string, LowStockCrossing>();
      await runStatements(em, this.reserveStatements(merged, ref.orderId, crossed));
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
    batch.add(...this.reserveStatements(merged, ref.orderId, crossed));
    // Background: an alert must never delay the sale that caused it.
    batch.afterCommit(() => crossed.size && this.alerts.send([...crossed.values()]), { background: true });
  }

  /**
   * Per SKU, in SKU order: the conditional UPDATE (matched rows tell whether there was enough),
   * then its ledger row, whose `delta_reserved` is guarded by the UPDATE's row count — so a line
   * short of stock (or a SKU without a stock row) fails on the server and nothing of the
   * transaction commits, with no client round trip between the UPDATE and the COMMIT.
   * Crossings of the low-stock threshold are collected into `crossed` (by SKU, so a re-run
   * after a deadlock does not count one twice).
   */
  private reserveStatements(
    merged: StockLine[],
    orderId: string,
    crossed: Map<string, LowStockCrossing>,
  ): Statement[] {
    return merged.flatMap(({ sku, quantity }): Statement[] => [
      {
        sql: RESERVE_SQL,
        params: [quantity, quantity, quantity, sku, quantity],
        onResult: (res) => {
          const mark = Number(res.insertId ?? 0);
          if (affected(res) === 1 && mark > 0) crossed.set(sku, { sku, available: mark - 1 });
        },
      },
      {
        sql: `INSERT INTO inventory_movements (sku, delta_on_hand, delta_reserved, reason, order_id)
          VALUES (?, 0, ${guardRowCount}, 'reserve', ?)`,
        params: [sku, quantity, orderId],
        explain: async (err, read) => {
          if (!isGuardFailure(err, 'delta_reserved')) return undefined;
          const rows: { available: number }[] = await read.query(
            'SELECT on_hand - reserved AS available FROM inventory_items WHERE sku = ?',
            [sku],
          );
          return new InsufficientStockError(sku, quantity, Number(rows[0]?.available ?? 0));
        },
      },
    ]);
  }

  /** The order is paid: the reserved units leave the warehouse. */
  async commit(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    await this.apply(
      'commit',
      'UPDATE inventory_items SET on_hand = on_hand - ?, reserved = reserved - ? WHERE sku = ? AND reserved >= ? AND on_hand >= ?',
      (q, sku) => [q, q, sku, q, q],
      lines,
      ref,
      -1,
      -1,
    );
  }

  /** The order was cancelled or expired: its reservation is given back. */
  async release(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    await this.apply(
      'release',
      'UPDATE inventory_items SET reserved = reserved - ? WHERE sku = ? AND reserved >= ?',
      (q, sku) => [q, sku, q],
      lines,
      ref,
      0,
      -1,
    );
  }

  /** A refund that returns the goods to stock. */
  async restock(lines: StockLine[], ref: { orderId: string }): Promise<void> {
    await this.apply(
      'restock',
      'UPDATE inventory_items SET on_hand = on_hand + ? WHERE sku = ?',
      (q, sku) => [q, sku],
      lines,
      ref,
      1,
      0,
    );
  }

  /** Current stock, read on the primary (stock moves too fast for a lagging replica to be useful here). */
  async get(sku: string): Promise<StockView | undefined> {
    const rows: Row[] = await this.db
      .primaryReader()
      .query('SELECT sku, on_hand, reserved, low_stock_threshold FROM inventory_items WHERE sku = ?', [sku]);
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** Available units per SKU for display (replica; unknown SKUs are absent from the map). */
  async availability(skus: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const unique = [...new Set(skus)];
    if (!unique.length) return out;
    const rows: { sku: string; available: number }[] = await this.db.read((em) =>
      em.query('SELECT sku, on_hand - reserved AS available FROM inventory_items WHERE sku IN (?)', [unique]),
    );
    for (const r of rows) out.set(r.sku, Number(r.available));
    return out;
  }

  /**
   * SQL condition "this variant has stock", for modules that filter listings by availability
   * without knowing this module's tables. `skuColumn` is a trusted column reference.
   */
  inStockSql(skuColumn: string): string {
    return `EXISTS (SELECT 1 FROM inventory_items inv WHERE inv.sku = ${skuColumn} AND inv.on_hand > inv.reserved)`;
  }

  /** Admin correction. onHand below what is reserved → 409 ON_HAND_BELOW_RESERVED. */
  async adjust(sku: string, patch: { onHand?: number; lowStockThreshold?: number }): Promise<StockView> {
    return this.db.transaction(async (em) => {
      // The row lock makes the ledger delta exact; admin adjustments are rare, so FOR UPDATE is fine here.
      const rows: Row[] = await em.query(
        'SELECT sku, on_hand, reserved, low_stock_threshold FROM inventory_items WHERE sku = ? FOR UPDATE',
        [sku],
      );
      if (!rows[0]) throw new NotFoundError(`Inventory for SKU ${sku}`);
      const before = toView(rows[0]);
      const onHand = patch.onHand ?? before.onHand;
      const threshold = patch.lowStockThreshold ?? before.lowStockThreshold;
      if (onHand < before.reserved) throw new OnHandBelowReservedError(sku, onHand, before.reserved);
      const res = await em.query(
        'UPDATE inventory_items SET on_hand = ?, low_stock_threshold = ? WHERE sku = ? AND reserved <= ?',
        [onHand, threshold, sku, onHand],
      );
      if (affected(res) !== 1) throw new OnHandBelowReservedError(sku, onHand, before.reserved);
      const delta = onHand - before.onHand;
      if (delta !== 0)
        await this.ledger(em, 'adjust', [{ sku, quantity: Math.abs(delta) }], null, Math.sign(delta), 0);
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

  private async apply(
    reason: MovementReason,
    sql: string,
    params: (quantity: number, sku: string) => unknown[],
    lines: StockLine[],
    ref: { orderId: string },
    onHandSign: number,
    reservedSign: number,
  ): Promise<void> {
    const merged = normalizeLines(lines);
    if (!merged.length) return;
    await this.db.transaction(async (em) => {
      for (const { sku, quantity } of merged) {
        const res = await em.query(sql, params(quantity, sku));
        if (affected(res) !== 1) throw new InventoryStateError(sku, reason);
      }
      await this.ledger(em, reason, merged, ref.orderId, onHandSign, reservedSign);
    });
  }

  /** One multi-row INSERT into the ledger for all lines of a change. */
  private async ledger(
    em: EntityManager,
    reason: MovementReason,
    lines: StockLine[],
    orderId: string | null,
    onHandSign: number,
    reservedSign: number,
  ): Promise<void> {
    await runStatements(em, [this.ledgerStatement(reason, lines, orderId, onHandSign, reservedSign)]);
  }

  private ledgerStatement(
    reason: MovementReason,
    lines: StockLine[],
    orderId: string | null,
    onHandSign: number,
    reservedSign: number,
  ): Statement {
    return {
      sql: `INSERT INTO inventory_movements (sku, delta_on_hand, delta_reserved, reason, order_id) VALUES ${lines
        .map(() => '(?, ?, ?, ?, ?)')
        .join(', ')}`,
      params: lines.flatMap((l) => [
        l.sku,
        onHandSign * l.quantity,
        reservedSign * l.quantity,
        reason,
        orderId,
      ]),
    };
  }
}
