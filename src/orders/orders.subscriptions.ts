import { Injectable, OnModuleInit } from '@nestjs/common';
import { ORDER_EVENTS, OrderEventsBus } from './order-events';
import { OrderNotifications } from './order-notifications';
import { OrderWatchers } from './order-watchers.service';

/**
 * Every order event the orders module itself reacts to, in one place (the convention: a module's
 * subscriptions live in `<module>.subscriptions.ts`, each handler one call of a service method).
 * Handlers run at least once per event, from the outbox (OrderEventsBus), so each is idempotent.
 */
@Injectable()
export class OrdersSubscriptions implements OnModuleInit {
  constructor(
    private readonly bus: OrderEventsBus,
    private readonly notifications: OrderNotifications,
    private readonly watchers: OrderWatchers,
  ) {}

  onModuleInit(): void {
    // The confirmation mail (deduped by the mail queue on the order id).
    this.bus.on(ORDER_EVENTS.created, (e) => this.notifications.confirm(e));
    // Every change reaches the WatchOrder streams of every instance.
    for (const type of Object.values(ORDER_EVENTS)) this.bus.on(type, (e) => this.watchers.broadcast(e));
  }
}
