import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DbRouter } from '../infra/database/db-router.service';
import { Statement, WriteBatch, runStatements } from '../infra/database/write-batch';
import { newId } from '../common/ids';
import { OrderEvent, OrderEventType } from './order-events';
import type { OrderRecord } from './orders.types';
import { OutboxRelay } from './outbox.relay';
import { OutboxRepository } from './outbox.repository';

export interface OutboxEntry {
  type: OrderEventType;
  order: OrderRecord;
  /** For `order.created`: the payment deadline. */
  expiresAt?: Date;
}

/**
 * Writes order events into the outbox, inside the transaction of the state change, and tells
 * the relay once that transaction has committed (the outermost one, when it is nested), so the
 * events go out without waiting for its next poll.
 */
@Injectable()
export class OutboxWriter {
  constructor(
    private readonly db: DbRouter,
    private readonly relay: OutboxRelay,
    private readonly repo: OutboxRepository,
  ) {}

  /** In a `DbRouter.transaction` callback. */
  async add(em: EntityManager, orders: OutboxEntry[]): Promise<OrderEvent[]> {
    const { events, statements } = this.statements(orders);
    if (!events.length) return events;
    await runStatements(em, statements);
    this.db.afterCommit(() => this.relay.nudge());
    return events;
  }

  /** The same, added to a WriteBatch (its INSERT and the nudge after its commit). */
  addTo(batch: WriteBatch, orders: OutboxEntry[]): OrderEvent[] {
    const { events, statements } = this.statements(orders);
    if (events.length) batch.add(...statements).afterCommit(() => this.relay.nudge());
    return events;
  }

  /** The events and the one INSERT that stores them. */
  private statements(orders: OutboxEntry[]): {
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
      items: order.items.map((i) => ({
        sku: i.sku,
        quantity: i.quantity,
        name: i.productName,
        unitPrice: i.unitPrice,
        currency: i.currency,
      })),
      total: order.total,
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      occurredAt: now.toISOString(),
    }));
    return { events, statements: [this.repo.insertStatement(events, now)] };
  }
}
