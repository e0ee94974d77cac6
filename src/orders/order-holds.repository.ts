import { Injectable } from '@nestjs/common';
import { DbRouter } from '../infra/database/db-router.service';
import type { Statement } from '../infra/database/write-batch';

/** The `order_holds` row that counts a customer's unpaid orders (not a valid SKU, sorts first). */
export const ORDERS_ROW = '*';
const CAP_CONSTRAINT = 'chk_order_holds_cap';

/** The CHECK (held <= cap) refused a raise: MySQL 8.4 errno 3819, MariaDB 10.11 errno 4025. */
export function isCapViolation(err: unknown): boolean {
  const e = err as { errno?: number; message?: string };
  return (e?.errno === 3819 || e?.errno === 4025) && !!e.message?.includes(CAP_CONSTRAINT);
}

/**
 * Every statement on `order_holds` (decision 0018): one row per customer and SKU (and the
 * ORDERS_ROW) with what the customer's unpaid web orders hold and the cap the CHECK enforces.
 */
@Injectable()
export class OrderHoldsRepository {
  constructor(private readonly db: DbRouter) {}

  /**
   * The raise of one row, for the order's WriteBatch: an upsert whose CHECK (held <= cap) fails
   * the statement when it would pass the cap; `overCap` explains that failure (`held()` reads
   * what the row holds now, on the batch's reader).
   */
  raiseStatement(
    userId: string,
    sku: string,
    quantity: number,
    cap: number,
    overCap: (held: () => Promise<number>) => Promise<Error>,
  ): Statement {
    return {
      sql: `INSERT INTO order_holds (user_id, sku, held, cap) VALUES (?, ?, ?, ?)
        ON DUPLICATE KEY UPDATE held = held + ?, cap = ?`,
      params: [userId, sku, quantity, cap, quantity, cap],
      explain: async (err, read) => {
        if (!isCapViolation(err)) return undefined;
        return overCap(async () => {
          const rows: { held: number }[] = await read.query(
            'SELECT held FROM order_holds WHERE user_id = ? AND sku = ?',
            [userId, sku],
          );
          return Number(rows[0]?.held ?? 0);
        });
      },
    };
  }

  /**
   * Gives back one order's holds: one from the ORDERS_ROW, `units` per SKU, never below zero. In
   * the caller's transaction (joined), or its own.
   */
  async release(userId: string, units: Map<string, number>): Promise<void> {
    const skus = [...units.keys()];
    await this.db.transaction((em) =>
      em.query(
        `UPDATE order_holds SET held = GREATEST(held - CASE sku WHEN '${ORDERS_ROW}' THEN 1 ${skus
          .map(() => 'WHEN ? THEN ?')
          .join(' ')} ELSE 0 END, 0)
         WHERE user_id = ? AND sku IN ('${ORDERS_ROW}'${skus.map(() => ', ?').join('')})`,
        [...skus.flatMap((s) => [s, units.get(s)]), userId, ...skus],
      ),
    );
  }
}
