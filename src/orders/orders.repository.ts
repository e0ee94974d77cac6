import { Statement, runStatements } from '../infra/database/write-batch';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { affected } from '../infra/database/mysql-results';
import type { OrderStatus } from './order-state';
import type { OrderAddress, OrderRecord, OrderView } from './orders.types';

export interface NewOrderItem {
  sku: string;
  productId: string | null;
  productName: string;
  unitPrice: number;
  quantity: number;
  discount?: number;
  tax?: number;
  taxRateBp?: number;
}

/** The checkout part of a new order (absent: an order priced as before, total = subtotal). */
export interface NewOrderPricing {
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  taxIncluded: boolean;
  taxCountry: string;
  shippingMethod: { code: string; name: string } | null;
  couponCode: string | null;
  shippingAddress: OrderAddress | null;
  awaitingAddress: boolean;
}

export interface NewOrder {
  id: string;
  userId: string;
  currency: string;
  total: number;
  items: NewOrderItem[];
  source: 'web' | 'flash_sale';
  idempotencyKey?: string | null;
  flashSaleId?: string | null;
  reservationId?: string | null;
  createdAt: Date;
  expiresAt: Date;
  pricing?: NewOrderPricing;
}

interface OrderRow {
  id: string;
  user_id: string;
  status: OrderStatus;
  total_minor: number | string;
  currency: string;
  source: 'web' | 'flash_sale';
  flash_sale_id: string | null;
  reservation_id: string | null;
  payment_id: string | null;
  created_at: Date;
  subtotal_minor: number | string | null;
  discount_minor: number | string;
  shipping_minor: number | string;
  tax_minor: number | string;
  tax_included: number | boolean;
  tax_country: string | null;
  shipping_method_code: string | null;
  shipping_method_name: string | null;
  coupon_code: string | null;
  shipping_address: string | OrderAddress | null;
  awaiting_address: number | boolean;
}

interface ItemRow {
  order_id: string;
  sku: string;
  product_name: string;
  unit_price_minor: number | string;
  quantity: number;
  discount_minor: number | string;
  tax_minor: number | string;
  tax_rate_bp: number;
}

const ORDER_COLUMNS = `id, user_id, status, total_minor, currency, source, flash_sale_id, reservation_id, payment_id, created_at,
  subtotal_minor, discount_minor, shipping_minor, tax_minor, tax_included, tax_country, shipping_method_code,
  shipping_method_name, coupon_code, shipping_address, awaiting_address`;

/** The columns of a new order's checkout part, in ORDER_INSERT_COLUMNS order. */
export function pricingValues(o: { total: number; pricing?: NewOrderPricing }): unknown[] {
  const p = o.pricing;
  return [
    p ? p.subtotal : o.total,
    p?.discount ?? 0,
    p?.shipping ?? 0,
    p?.tax ?? 0,
    (p?.taxIncluded ?? true) ? 1 : 0,
    p?.taxCountry ?? null,
    p?.shippingMethod?.code ?? null,
    p?.shippingMethod?.name ?? null,
    p?.couponCode ?? null,
    p?.shippingAddress ? JSON.stringify(p.shippingAddress) : null,
    p?.awaitingAddress ? 1 : 0,
  ];
}

export const PRICING_COLUMNS = `subtotal_minor, discount_minor, shipping_minor, tax_minor, tax_included, tax_country,
  shipping_method_code, shipping_method_name, coupon_code, shipping_address, awaiting_address`;
export const PRICING_PLACEHOLDERS = '?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?';

export interface ListFilter {
  userId?: string;
  status?: OrderStatus;
  from?: Date;
  to?: Date;
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** SQL of the orders tables. Callers choose the EntityManager (replica, primary or transaction). */
@Injectable()
export class OrdersRepository {
  constructor(private readonly db: DbRouter) {}

  /** The order row and its item rows, as statements (for a WriteBatch or an open transaction). */
  insertStatements(o: NewOrder): Statement[] {
    return [
      {
        sql: `INSERT INTO orders (id, user_id, status, total_minor, currency, idempotency_key, source, flash_sale_id,
         reservation_id, expires_at, created_at, updated_at, ${PRICING_COLUMNS})
       VALUES (?, ?, 'PENDING_PAYMENT', ?, ?, ?, ?, ?, ?, ?, ?, ?, ${PRICING_PLACEHOLDERS})`,
        params: [
          o.id,
          o.userId,
          o.total,
          o.currency,
          o.idempotencyKey ?? null,
          o.source,
          o.flashSaleId ?? null,
          o.reservationId ?? null,
          o.expiresAt,
          o.createdAt,
          o.createdAt,
          ...pricingValues(o),
        ],
      },
      ...this.itemStatements([o]),
    ];
  }

  /**
   * Flash-sale orders, PENDING_PAYMENT, one multi-row INSERT IGNORE: a reservation that has its
   * order already (the unique reservation id) is skipped, after waiting for that order's commit.
   * Their items are inserted by the caller for the orders that are really new ({@link findByReservations}).
   */
  async insertFlashSaleOrders(em: EntityManager, orders: NewOrder[]): Promise<void> {
    await em.query(
      `INSERT IGNORE INTO orders (id, user_id, status, total_minor, currency, source, flash_sale_id,
           reservation_id, expires_at, created_at, updated_at, ${PRICING_COLUMNS})
         VALUES ${orders
           .map(() => `(?, ?, 'PENDING_PAYMENT', ?, ?, 'flash_sale', ?, ?, ?, ?, ?, ${PRICING_PLACEHOLDERS})`)
           .join(', ')}`,
      orders.flatMap((o) => [
        o.id,
        o.userId,
        o.total,
        o.currency,
        o.flashSaleId,
        o.reservationId,
        o.expiresAt,
        o.createdAt,
        o.createdAt,
        ...pricingValues(o),
      ]),
    );
  }

  async insertItems(em: EntityManager, orders: NewOrder[]): Promise<void> {
    await runStatements(em, this.itemStatements(orders));
  }

  private itemStatements(orders: NewOrder[]): Statement[] {
    const rows = orders.flatMap((o) => o.items.map((i) => [o.id, i]) as [string, NewOrderItem][]);
    if (!rows.length) return [];
    return [
      {
        sql: `INSERT INTO order_items (order_id, sku, product_id, product_name, unit_price_minor, quantity,
          discount_minor, tax_minor, tax_rate_bp) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        params: rows.flatMap(([id, i]) => [
          id,
          i.sku,
          i.productId,
          i.productName,
          i.unitPrice,
          i.quantity,
          i.discount ?? 0,
          i.tax ?? 0,
          i.taxRateBp ?? 0,
        ]),
      },
    ];
  }

  /**
   * The conditional state change: `to` wins only if the order is still in one of `from`.
   * Returns whether it won (a concurrent change that got there first makes this false).
   */
  async transition(
    em: EntityManager,
    orderId: string,
    from: OrderStatus[],
    to: OrderStatus,
    extra: { userId?: string; paymentId?: string; paidBy?: string } = {},
  ): Promise<boolean> {
    const params: unknown[] = [to];
    let set = 'status = ?, version = version + 1';
    if (extra.paymentId !== undefined) {
      set += ', payment_id = ?';
      params.push(extra.paymentId);
    }
    let where = 'id = ? AND status IN (?)';
    params.push(orderId, from);
    if (extra.userId) {
      where += ' AND user_id = ?';
      params.push(extra.userId);
    }
    if (extra.paidBy) {
      where += ' AND payment_id = ?';
      params.push(extra.paidBy);
    }
    return affected(await em.query(`UPDATE orders SET ${set} WHERE ${where}`, params)) === 1;
  }

  /** Gives an order awaiting its address one (only while it is unpaid and still waiting). */
  async setAddress(
    em: EntityManager,
    orderId: string,
    userId: string,
    address: OrderAddress,
  ): Promise<boolean> {
    const res = await em.query(
      `UPDATE orders SET shipping_address = ?, awaiting_address = 0, version = version + 1
        WHERE id = ? AND user_id = ? AND awaiting_address = 1 AND status = 'PENDING_PAYMENT'`,
      [JSON.stringify(address), orderId, userId],
    );
    return affected(res) === 1;
  }

  async findOne(em: EntityManager, orderId: string, userId?: string): Promise<OrderRecord | undefined> {
    const rows: OrderRow[] = await em.query(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?${userId ? ' AND user_id = ?' : ''}`,
      userId ? [orderId, userId] : [orderId],
    );
    if (!rows[0]) return undefined;
    return (await this.withItems(em, rows))[0];
  }

  /** Reads on the replica (or the primary under read-your-writes), falling back to the primary on a miss. */
  async findOneFresh(orderId: string, userId?: string): Promise<OrderRecord | undefined> {
    const found = await this.db.read((em) => this.findOne(em, orderId, userId));
    return found ?? this.findOne(this.db.primaryReader(), orderId, userId);
  }

  async findByReservations(em: EntityManager, reservationIds: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!reservationIds.length) return out;
    const rows: { id: string; reservation_id: string }[] = await em.query(
      'SELECT id, reservation_id FROM orders WHERE reservation_id IN (?)',
      [reservationIds],
    );
    for (const r of rows) out.set(r.reservation_id, r.id);
    return out;
  }

  /** One page, newest first, keyset on (created_at, id); returns up to `limit + 1` rows. */
  async list(em: EntityManager, f: ListFilter): Promise<OrderRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const and = (condition: string, ...values: unknown[]): void => {
      where.push(condition);
      params.push(...values);
    };
    if (f.userId) and('user_id = ?', f.userId);
    if (f.status) and('status = ?', f.status);
    if (f.from) and('created_at >= ?', f.from);
    if (f.to) and('created_at < ?', f.to);
    if (f.after) {
      const { createdAt, id } = f.after;
      and('(created_at < ? OR (created_at = ? AND id < ?))', createdAt, createdAt, id);
    }
    params.push(f.limit + 1);
    const rows: OrderRow[] = await em.query(
      `SELECT ${ORDER_COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      params,
    );
    return this.withItems(em, rows);
  }

  /** Pending orders whose payment window has closed, by the database's clock; `(status, expires_at)`. */
  async overdue(limit: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db
      .primaryReader()
      .query(
        `SELECT id FROM orders WHERE status = 'PENDING_PAYMENT' AND expires_at <= NOW(3) ORDER BY expires_at LIMIT ?`,
        [limit],
      );
    return rows.map((r) => r.id);
  }

  private async withItems(em: EntityManager, rows: OrderRow[]): Promise<OrderRecord[]> {
    if (!rows.length) return [];
    const items: ItemRow[] = await em.query(
      `SELECT order_id, sku, product_name, unit_price_minor, quantity, discount_minor, tax_minor, tax_rate_bp
         FROM order_items WHERE order_id IN (?) ORDER BY id`,
      [rows.map((r) => r.id)],
    );
    const byOrder = new Map<string, ItemRow[]>();
    for (const i of items) {
      const list = byOrder.get(i.order_id) ?? [];
      list.push(i);
      byOrder.set(i.order_id, list);
    }
    return rows.map((r) => {
      const total = Number(r.total_minor);
      const address =
        typeof r.shipping_address === 'string'
          ? (JSON.parse(r.shipping_address) as OrderAddress)
          : r.shipping_address;
      return {
        id: r.id,
        userId: r.user_id,
        status: r.status,
        items: (byOrder.get(r.id) ?? []).map((i) => ({
          sku: i.sku,
          productName: i.product_name,
          quantity: Number(i.quantity),
          unitPrice: Number(i.unit_price_minor),
          currency: r.currency,
          lineTotal: Number(i.unit_price_minor) * Number(i.quantity),
          discount: Number(i.discount_minor),
          tax: Number(i.tax_minor),
          taxRateBp: Number(i.tax_rate_bp),
        })),
        total: { amount: total, currency: r.currency },
        createdAt: new Date(r.created_at).toISOString(),
        source: r.source,
        breakdown: {
          subtotal: r.subtotal_minor === null ? total : Number(r.subtotal_minor),
          discount: Number(r.discount_minor),
          shipping: Number(r.shipping_minor),
          tax: Number(r.tax_minor),
          taxIncluded: Number(r.tax_included) === 1,
          total,
          currency: r.currency,
        },
        taxCountry: r.tax_country,
        shippingAddress: address ?? null,
        shippingMethod: r.shipping_method_code
          ? { code: r.shipping_method_code, name: r.shipping_method_name ?? r.shipping_method_code }
          : null,
        coupon: r.coupon_code ? { code: r.coupon_code } : null,
        awaitingAddress: Number(r.awaiting_address) === 1,
        flashSaleId: r.flash_sale_id,
        reservationId: r.reservation_id,
        paymentId: r.payment_id,
      };
    });
  }
}

/** The public view of a record (drops internal references). */
export function toView(r: OrderRecord): OrderView {
  return {
    id: r.id,
    userId: r.userId,
    status: r.status,
    items: r.items,
    total: r.total,
    createdAt: r.createdAt,
    source: r.source,
    breakdown: r.breakdown,
    taxCountry: r.taxCountry,
    shippingAddress: r.shippingAddress,
    shippingMethod: r.shippingMethod,
    coupon: r.coupon,
    awaitingAddress: r.awaitingAddress,
  };
}
