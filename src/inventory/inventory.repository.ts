import { Injectable } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';
import {
  Querier,
  Statement,
  guardRowCount,
  isGuardFailure,
  runStatements,
} from '../infra/database/write-batch';
import { MovementReason } from './inventory-movement.entity';
import { InsufficientStockError } from './inventory.errors';
import type { LowStockCrossing, StockLine, StockView } from './inventory.types';

/** A stock row as MySQL answers it (BIGINT/INT may come back as strings). */
interface StockRow {
  sku: string;
  on_hand: number | string;
  reserved: number | string;
  low_stock_threshold: number | string;
}

const toView = (r: StockRow): StockView => ({
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

/** The reservation's ledger row; `delta_reserved` is guarded by the UPDATE's row count. Params: sku, q, orderId. */
const RESERVE_LEDGER_SQL = `INSERT INTO inventory_movements (sku, delta_on_hand, delta_reserved, reason, order_id)
          VALUES (?, 0, ${guardRowCount}, 'reserve', ?)`;

/** A stock change after the reservation: its conditional UPDATE and its ledger deltas (per unit). */
export type StockMove = 'commit' | 'release' | 'restock';

const MOVES: Record<
  StockMove,
  { sql: string; params: (q: number, sku: string) => unknown[]; onHand: number; reserved: number }
> = {
  // The order is paid: the reserved units leave the warehouse.
  commit: {
    sql: 'UPDATE inventory_items SET on_hand = on_hand - ?, reserved = reserved - ? WHERE sku = ? AND reserved >= ? AND on_hand >= ?',
    params: (q, sku) => [q, q, sku, q, q],
    onHand: -1,
    reserved: -1,
  },
  // The order was cancelled or expired: its reservation is given back.
  release: {
    sql: 'UPDATE inventory_items SET reserved = reserved - ? WHERE sku = ? AND reserved >= ?',
    params: (q, sku) => [q, sku, q],
    onHand: 0,
    reserved: -1,
  },
  // A refund that returns the goods to stock.
  restock: {
    sql: 'UPDATE inventory_items SET on_hand = on_hand + ? WHERE sku = ?',
    params: (q, sku) => [q, sku],
    onHand: 1,
    reserved: 0,
  },
};

/**
 * Every statement on `inventory_items` and `inventory_movements` (the ledger). Writes run in the
 * caller's transaction when one is open (DbRouter.transaction joins it), or go into the caller's
 * WriteBatch (the order hot path: {@link reserveStatements}). Changes are conditional UPDATEs
 * whose matched-row count decides, never read-modify-write.
 */
@Injectable()
export class InventoryRepository {
  /** Statements on the primary, in the open transaction if any (DbRouter.execute marks the writer). */
  private readonly writer: Querier = { query: (sql, params) => this.db.execute(sql, params) };

  constructor(private readonly db: DbRouter) {}

  /** Creates the stock row unless the SKU has one; true when it did. */
  async createIfAbsent(sku: string, onHand: number, lowStockThreshold: number): Promise<boolean> {
    const res = await this.db.execute(
      'INSERT IGNORE INTO inventory_items (sku, on_hand, reserved, low_stock_threshold) VALUES (?, ?, 0, ?)',
      [sku, onHand, lowStockThreshold],
    );
    return affected(res) === 1;
  }

  /**
   * The reservation of merged, SKU-ordered lines, for a WriteBatch (one round trip) or
   * {@link reserve}. Per SKU: the conditional UPDATE (matched rows tell whether there was enough),
   * then its ledger row, whose `delta_reserved` is guarded by the UPDATE's row count — so a line
   * short of stock (or a SKU without a stock row) fails on the server and nothing of the
   * transaction commits, with no client round trip between the UPDATE and the COMMIT; the
   * failure is explained as InsufficientStockError. Crossings of the low-stock threshold are
   * collected into `crossed` (by SKU, so a re-run after a deadlock does not count one twice).
   */
  reserveStatements(
    lines: StockLine[],
    orderId: string,
    crossed: Map<string, LowStockCrossing>,
  ): Statement[] {
    return lines.flatMap(({ sku, quantity }): Statement[] => [
      {
        sql: RESERVE_SQL,
        params: [quantity, quantity, quantity, sku, quantity],
        onResult: (res) => {
          const mark = Number(res.insertId ?? 0);
          if (affected(res) === 1 && mark > 0) crossed.set(sku, { sku, available: mark - 1 });
        },
      },
      {
        sql: RESERVE_LEDGER_SQL,
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

  /** {@link reserveStatements}, one by one in the open transaction. */
  async reserve(lines: StockLine[], orderId: string, crossed: Map<string, LowStockCrossing>): Promise<void> {
    await runStatements(this.writer, this.reserveStatements(lines, orderId, crossed));
  }

  /** One line's conditional UPDATE for `kind`; false when the counters did not allow it. */
  async move(kind: StockMove, sku: string, quantity: number): Promise<boolean> {
    const res = await this.db.execute(MOVES[kind].sql, MOVES[kind].params(quantity, sku));
    return affected(res) === 1;
  }

  /** The ledger rows of a move's lines, one multi-row INSERT. */
  async recordMove(kind: StockMove, lines: StockLine[], orderId: string): Promise<void> {
    await this.record(kind, lines, orderId, MOVES[kind].onHand, MOVES[kind].reserved);
  }

  /** Ledger rows for lines whose on-hand count changed by `sign` × quantity (initial stock, admin adjustments). */
  async recordOnHand(reason: 'initial' | 'adjust', lines: StockLine[], sign: number): Promise<void> {
    await this.record(reason, lines, null, sign, 0);
  }

  private async record(
    reason: MovementReason,
    lines: StockLine[],
    orderId: string | null,
    onHandSign: number,
    reservedSign: number,
  ): Promise<void> {
    await this.db.execute(
      `INSERT INTO inventory_movements (sku, delta_on_hand, delta_reserved, reason, order_id) VALUES ${lines
        .map(() => '(?, ?, ?, ?, ?)')
        .join(', ')}`,
      lines.flatMap((l) => [l.sku, onHandSign * l.quantity, reservedSign * l.quantity, reason, orderId]),
    );
  }

  /** Current stock, read on the primary (stock moves too fast for a lagging replica to be useful here). */
  async find(sku: string): Promise<StockView | undefined> {
    const rows: StockRow[] = await this.db
      .primaryReader()
      .query('SELECT sku, on_hand, reserved, low_stock_threshold FROM inventory_items WHERE sku = ?', [sku]);
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** The stock row, locked until the transaction ends (in a transaction only). */
  async lock(sku: string): Promise<StockView | undefined> {
    const rows: StockRow[] = await this.db
      .primaryReader()
      .query(
        'SELECT sku, on_hand, reserved, low_stock_threshold FROM inventory_items WHERE sku = ? FOR UPDATE',
        [sku],
      );
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** Sets on-hand and threshold unless on-hand would fall below what is reserved; true when it did. */
  async setLevels(sku: string, onHand: number, lowStockThreshold: number): Promise<boolean> {
    const res = await this.db.execute(
      'UPDATE inventory_items SET on_hand = ?, low_stock_threshold = ? WHERE sku = ? AND reserved <= ?',
      [onHand, lowStockThreshold, sku, onHand],
    );
    return affected(res) === 1;
  }

  /** Available units per SKU for display (replica; unknown SKUs are absent from the map). */
  async availability(skus: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!skus.length) return out;
    const rows: { sku: string; available: number | string }[] = await this.db.read((em) =>
      em.query('SELECT sku, on_hand - reserved AS available FROM inventory_items WHERE sku IN (?)', [skus]),
    );
    for (const r of rows) out.set(r.sku, Number(r.available));
    return out;
  }

  /** Low-stock thresholds per SKU, fresh (read after the commit that crossed them). */
  async thresholds(skus: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!skus.length) return out;
    const rows: { sku: string; t: number | string }[] = await this.db
      .primaryReader()
      .query('SELECT sku, low_stock_threshold AS t FROM inventory_items WHERE sku IN (?)', [skus]);
    for (const r of rows) out.set(r.sku, Number(r.t));
    return out;
  }

  /** SQL condition "this variant has stock"; `skuColumn` is a trusted column reference. */
  inStockSql(skuColumn: string): string {
    return inStockSql(skuColumn);
  }
}

/**
 * SQL condition "this variant has stock", as a pure function so that statement builders (and the
 * EXPLAIN suite) get the exact text the repository runs. `skuColumn` is a trusted column reference.
 */
export function inStockSql(skuColumn: string): string {
  return `EXISTS (SELECT 1 FROM inventory_items inv WHERE inv.sku = ${skuColumn} AND inv.on_hand > inv.reserved)`;
}
