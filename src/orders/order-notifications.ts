import { Injectable } from '@nestjs/common';
import { BatchLoader } from '../common/batch-loader';
import { MailService } from '../notifications';
import type { MailTemplates } from '../notifications';
import { UsersService } from '../users';
import type { OrderEvent } from './order-events';
import { OrdersService } from './orders.service';

/** Buyers' addresses read together: the outbox consumer runs many confirmations at once. */
const CONTACTS_BATCH = 100;
const CONTACTS_DELAY_MS = 2;

type ConfirmationItems = MailTemplates['order-confirmation']['items'];

/**
 * Order confirmation mail, once per order (the mail queue dedupes on `order-confirmation:<orderId>`),
 * on `order.created` (OrdersSubscriptions). The lines and total come from the event (what the
 * order copied when it was placed); the buyer's address and name are read when the mail is queued,
 * one read of the primary for the confirmations handled together. An event written before it
 * carried the lines' names and prices reads the order.
 */
@Injectable()
export class OrderNotifications {
  private readonly contacts: BatchLoader<string, { email: string; name: string }>;

  constructor(
    private readonly orders: OrdersService,
    private readonly users: UsersService,
    private readonly mail: MailService,
  ) {
    this.contacts = new BatchLoader((ids) => this.users.contacts(ids), {
      max: CONTACTS_BATCH,
      delayMs: CONTACTS_DELAY_MS,
    });
  }

  async confirm(e: OrderEvent): Promise<void> {
    const carried = itemsOf(e);
    const [items, total, user] = carried
      ? [carried, e.total, await this.contacts.load(e.userId)]
      : await this.fromOrder(e);
    if (!items || !total || !user) return;
    await this.mail.send({
      template: 'order-confirmation',
      to: user.email,
      dedupeKey: `order-confirmation:${e.orderId}`,
      data: { name: user.name, orderId: e.orderId, items, total },
    });
  }

  /** An older event: the order's lines and the buyer, read on the primary. */
  private async fromOrder(
    e: OrderEvent,
  ): Promise<[ConfirmationItems?, OrderEvent['total']?, { email: string; name: string }?]> {
    const [order, user] = await Promise.all([
      this.orders.getForSystem(e.orderId),
      this.users.findById(e.userId, { primary: true }),
    ]);
    if (!order || !user) return [];
    const items = order.items.map((i) => ({
      sku: i.sku,
      name: i.productName,
      quantity: i.quantity,
      lineTotal: i.unitPrice * i.quantity,
      currency: i.currency,
    }));
    return [items, order.total, user];
  }
}

/** The mail's lines from the event, when it carries their names and prices. */
function itemsOf(e: OrderEvent): ConfirmationItems | undefined {
  if (!e.items.every((i) => i.name !== undefined && i.unitPrice !== undefined && i.currency))
    return undefined;
  return e.items.map((i) => ({
    sku: i.sku,
    name: i.name,
    quantity: i.quantity,
    lineTotal: i.unitPrice! * i.quantity,
    currency: i.currency!,
  }));
}
