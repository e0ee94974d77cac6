import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Statement, runStatements } from '../infra/database/write-batch';
import { newId } from '../common/ids';
import { OrderEvent, OrderEventType } from './order-events';
import type { OrderRecord } from './orders.repository';

export interface OutboxEntry {
  type: OrderEventType;
  order: OrderRecord;
  /** For `order.created`: the payment deadline. */
  expiresAt?: Date;
}

/** Writes order events into the outbox, inside the transaction of the state change. */
@Injectable()
export class OutboxWriter {
  async add(em: EntityManager, orders: OutboxEntry[]): Promise<OrderEvent[]> {
    const { events, statements } = this.statements(orders);
    await runStatements(em, statements);
    return events;
  }

  /** The events and the one INSERT that stores them (for a WriteBatch or an open transaction). */
  statements(orders: OutboxEntry[]): {
    events: OrderEvent[];
    statements: Statement[];
  } {
    if (!orders.length) return { events: [], statements: [] };
    const now = new Date();
    const events: OrderEvent[] = orders.map(({ type, order, expiresAt }) => ({
      eventId: newId(now.getTime()),
      type,
      orderId: order.id,
      userId: order.userId,
      status: order.status,
      source: order.source,
      flashSaleId: order.flashSaleId,
      reservationId: order.reservationId,
      paymentId: order.paymentId,
      items: order.items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
      total: order.total,
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      occurredAt: now.toISOString(),
    }));
    const sql = `INSERT INTO outbox (id, aggregate_id, type, payload, created_at) VALUES ${events
      .map(() => '(?, ?, ?, ?, ?)')
      .join(', ')}`;
    const params = events.flatMap((e) => [e.eventId, e.orderId, e.type, JSON.stringify(e), now]);
    return { events, statements: [{ sql, params }] };
  }
}
