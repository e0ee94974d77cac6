import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { affected, duplicateAs } from '../infra/database/mysql-results';
import { Querier, Statement, guardRowCount, isGuardFailure } from '../infra/database/write-batch';
import { CouponCodeTakenError } from './coupons.errors';
import type { CouponInput, CouponView } from './coupon.types';

interface CouponRow {
  id: string;
  code: string;
  kind: 'percentage' | 'fixed';
  percent_off: number | null;
  amount_off_minor: number | string | null;
  currency: string | null;
  min_subtotal_minor: number | string;
  starts_at: Date;
  ends_at: Date | null;
  usage_limit: number | null;
  per_customer_limit: number | null;
  used: number;
  skus: string | string[] | null;
  category_ids: string | string[] | null;
  active: number | boolean;
}

const COLUMNS = `id, code, kind, percent_off, amount_off_minor, currency, min_subtotal_minor, starts_at, ends_at,
  usage_limit, per_customer_limit, used, skus, category_ids, active`;

/** MariaDB's JSON is LONGTEXT: mysql2 hands it over as a string. */
const json = (v: string | string[] | null): string[] | null =>
  typeof v === 'string' ? (JSON.parse(v) as string[]) : v;

const toView = (r: CouponRow): CouponView => ({
  id: r.id,
  code: r.code,
  kind: r.kind,
  percentOff: r.percent_off === null ? null : Number(r.percent_off),
  amountOff: r.amount_off_minor === null ? null : Number(r.amount_off_minor),
  currency: r.currency,
  minSubtotal: Number(r.min_subtotal_minor),
  startsAt: new Date(r.starts_at).toISOString(),
  endsAt: r.ends_at ? new Date(r.ends_at).toISOString() : null,
  usageLimit: r.usage_limit === null ? null : Number(r.usage_limit),
  perCustomerLimit: r.per_customer_limit === null ? null : Number(r.per_customer_limit),
  used: Number(r.used),
  skus: json(r.skus),
  categoryIds: json(r.category_ids),
  active: Number(r.active) === 1,
});

/** Per-customer counters carry the limit they were taken under; "unlimited" is this. */
export const UNLIMITED_USES = 2_147_483_647;
const CUSTOMER_LIMIT_CHECK = 'chk_coupon_customer_uses_limit';

/** Whether `err` is the per-customer CHECK refusing a use (MySQL: 3819, MariaDB: 4025, both name it). */
export function isCustomerLimitFailure(err: unknown): boolean {
  const e = err as { message?: string; sqlMessage?: string };
  return !!(e?.sqlMessage ?? e?.message)?.includes(CUSTOMER_LIMIT_CHECK);
}

export interface RedemptionRow {
  couponId: string;
  code: string;
  userId: string;
  discount: number;
  status: 'ACTIVE' | 'RETURNED';
}

/** SQL of coupons, redemptions and per-customer counters. */
@Injectable()
export class CouponsRepository {
  constructor(private readonly db: DbRouter) {}

  /** `em`: where the caller's cache decided to read (a replica that has the last write, or the primary). */
  async findByCode(code: string, em: EntityManager): Promise<CouponView | undefined> {
    const rows: CouponRow[] = await em.query(`SELECT ${COLUMNS} FROM coupons WHERE code = ?`, [code]);
    return rows[0] && toView(rows[0]);
  }

  /** From the primary: the counters as they are right before a decision. */
  findByCodeFresh(code: string): Promise<CouponView | undefined> {
    return this.findByCode(code, this.db.primaryReader());
  }

  async findById(id: string): Promise<CouponView | undefined> {
    const rows: CouponRow[] = await this.db
      .primaryReader()
      .query(`SELECT ${COLUMNS} FROM coupons WHERE id = ?`, [id]);
    return rows[0] && toView(rows[0]);
  }

  /** Newest first, keyset on id (UUIDv7: time-ordered). */
  async list(limit: number, before?: string): Promise<CouponView[]> {
    const rows: CouponRow[] = await this.db.read((em) =>
      em.query(
        `SELECT ${COLUMNS} FROM coupons ${before ? 'WHERE id < ?' : ''} ORDER BY id DESC LIMIT ?`,
        before ? [before, limit] : [limit],
      ),
    );
    return rows.map(toView);
  }

  /** How many times `userId` holds a use of the coupon now (advisory: the batch's CHECK decides). */
  async customerUses(couponId: string, userId: string): Promise<number> {
    const rows: { used: number }[] = await this.db
      .primaryReader()
      .query('SELECT used FROM coupon_customer_uses WHERE coupon_id = ? AND user_id = ?', [couponId, userId]);
    return rows[0] ? Number(rows[0].used) : 0;
  }

  async insert(id: string, c: Required<CouponInput>): Promise<void> {
    await duplicateAs(
      this.db.execute(
        `INSERT INTO coupons (id, code, kind, percent_off, amount_off_minor, currency, min_subtotal_minor, starts_at, ends_at,
         usage_limit, per_customer_limit, skus, category_ids, active)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, ...values(c)],
      ),
      () => new CouponCodeTakenError(c.code),
    );
  }

  /** Changes the definition; never the counter (`used` moves only with orders). */
  async update(id: string, c: Required<CouponInput>): Promise<boolean> {
    const res = await duplicateAs(
      this.db.execute(
        `UPDATE coupons SET code = ?, kind = ?, percent_off = ?, amount_off_minor = ?, currency = ?, min_subtotal_minor = ?,
         starts_at = ?, ends_at = ?, usage_limit = ?, per_customer_limit = ?, skus = ?, category_ids = ?, active = ?
       WHERE id = ?`,
        [...values(c), id],
      ),
      () => new CouponCodeTakenError(c.code),
    );
    return affected(res) === 1;
  }

  /**
   * The redemption, as statements for the order's WriteBatch (one round trip, decided on the server):
   * 1. the usage counter moves only while the coupon is active, started, not ended and under its limit;
   * 2. the redemption row's `discount_minor` is NULL — failing the batch — unless (1) matched its row;
   * 3. the customer's counter is upserted with the limit it is taken under, whose CHECK fails the
   *    batch past the per-customer limit.
   * `explain` names the refusal (read after the rollback, for the message only).
   */
  redeemStatements(
    r: {
      couponId: string;
      orderId: string;
      userId: string;
      discount: number;
      perCustomerLimit: number | null;
      now: Date;
    },
    explain: (kind: 'exhausted' | 'customer_limit', read: Querier) => Promise<Error>,
  ): Statement[] {
    return [
      {
        sql: `UPDATE coupons SET used = used + 1
          WHERE id = ? AND active = 1 AND (usage_limit IS NULL OR used < usage_limit)
            AND starts_at <= ? AND (ends_at IS NULL OR ends_at > ?)`,
        params: [r.couponId, r.now, r.now],
      },
      {
        sql: `INSERT INTO coupon_redemptions (coupon_id, order_id, user_id, discount_minor, status, created_at)
          VALUES (?, ?, ?, ${guardRowCount}, 'ACTIVE', ?)`,
        params: [r.couponId, r.orderId, r.userId, r.discount, r.now],
        explain: async (err, read) =>
          isGuardFailure(err, 'discount_minor') ? explain('exhausted', read) : undefined,
      },
      {
        sql: `INSERT INTO coupon_customer_uses (coupon_id, user_id, used, max_uses) VALUES (?, ?, 1, ?)
          ON DUPLICATE KEY UPDATE used = used + 1, max_uses = ?`,
        params: [
          r.couponId,
          r.userId,
          r.perCustomerLimit ?? UNLIMITED_USES,
          r.perCustomerLimit ?? UNLIMITED_USES,
        ],
        explain: async (err, read) =>
          isCustomerLimitFailure(err) ? explain('customer_limit', read) : undefined,
      },
    ];
  }

  /**
   * Gives the order's use back, once: the redemption row moves ACTIVE → RETURNED (only one
   * caller can win that), and only the winner decrements the two counters. In the transaction
   * of the order's cancel/expiry. Returns the redemption given back, if any.
   */
  async giveBack(em: EntityManager, orderId: string, now: Date): Promise<RedemptionRow | undefined> {
    const won = affected(
      await em.query(
        `UPDATE coupon_redemptions SET status = 'RETURNED', returned_at = ? WHERE order_id = ? AND status = 'ACTIVE'`,
        [now, orderId],
      ),
    );
    if (won !== 1) return undefined;
    const [row] = (await em.query(
      `SELECT r.coupon_id, c.code, r.user_id, r.discount_minor FROM coupon_redemptions r
         JOIN coupons c ON c.id = r.coupon_id WHERE r.order_id = ?`,
      [orderId],
    )) as { coupon_id: string; code: string; user_id: string; discount_minor: string | number }[];
    await em.query('UPDATE coupons SET used = used - 1 WHERE id = ? AND used > 0', [row.coupon_id]);
    await em.query(
      'UPDATE coupon_customer_uses SET used = used - 1 WHERE coupon_id = ? AND user_id = ? AND used > 0',
      [row.coupon_id, row.user_id],
    );
    return {
      couponId: row.coupon_id,
      code: row.code,
      userId: row.user_id,
      discount: Number(row.discount_minor),
      status: 'RETURNED',
    };
  }

  /** The order's redemption (admin and tests: who holds a use). */
  async redemptionOf(orderId: string): Promise<RedemptionRow | undefined> {
    const rows = (await this.db.primaryReader().query(
      `SELECT r.coupon_id, c.code, r.user_id, r.discount_minor, r.status FROM coupon_redemptions r
         JOIN coupons c ON c.id = r.coupon_id WHERE r.order_id = ?`,
      [orderId],
    )) as {
      coupon_id: string;
      code: string;
      user_id: string;
      discount_minor: string | number;
      status: 'ACTIVE' | 'RETURNED';
    }[];
    const r = rows[0];
    return (
      r && {
        couponId: r.coupon_id,
        code: r.code,
        userId: r.user_id,
        discount: Number(r.discount_minor),
        status: r.status,
      }
    );
  }

  /** Whether the coupon is active and when it ends, read by `read` (a failed batch's explanation reads the primary). */
  async standing(
    read: Querier,
    couponId: string,
  ): Promise<{ active: boolean; endsAt: Date | null } | undefined> {
    const rows = (await read.query('SELECT active, ends_at FROM coupons WHERE id = ?', [couponId])) as {
      active: number;
      ends_at: Date | null;
    }[];
    const c = rows[0];
    return c && { active: Number(c.active) === 1, endsAt: c.ends_at ? new Date(c.ends_at) : null };
  }
}

function values(c: Required<CouponInput>): unknown[] {
  return [
    c.code,
    c.kind,
    c.percentOff,
    c.amountOff,
    c.currency,
    c.minSubtotal,
    new Date(c.startsAt),
    c.endsAt ? new Date(c.endsAt) : null,
    c.usageLimit,
    c.perCustomerLimit,
    c.skus ? JSON.stringify(c.skus) : null,
    c.categoryIds ? JSON.stringify(c.categoryIds) : null,
    c.active ? 1 : 0,
  ];
}
