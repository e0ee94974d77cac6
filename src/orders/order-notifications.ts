import { Injectable } from '@nestjs/common';
import { MailService } from '../notifications';
import { UsersService } from '../users';
import type { OrderEvent } from './order-events';
import { OrdersService } from './orders.service';

/**
 * Order confirmation mail, once per order (the mail queue dedupes on `order-confirmation:<orderId>`),
 * on `order.created` (OrdersSubscriptions).
 */
@Injectable()
export class OrderNotifications {
  constructor(
    private readonly orders: OrdersService,
    private readonly users: UsersService,
    private readonly mail: MailService,
  ) {}

  async confirm(e: OrderEvent): Promise<void> {
    const [order, user] = await Promise.all([
      this.orders.getForSystem(e.orderId),
      this.users.findById(e.userId, { primary: true }),
    ]);
    if (!order || !user) return;
    await this.mail.send({
      template: 'order-confirmation',
      to: user.email,
      dedupeKey: `order-confirmation:${order.id}`,
      data: {
        name: user.name,
        orderId: order.id,
        items: order.items.map((i) => ({
          sku: i.sku,
          name: i.productName,
          quantity: i.quantity,
          lineTotal: i.unitPrice * i.quantity,
          currency: i.currency,
        })),
        total: order.total,
      },
    });
  }
}
