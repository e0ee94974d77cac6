import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { Observable, Subscriber } from 'rxjs';
import { RedisService } from '../infra/redis/redis.service';
import { ORDER_EVENTS, OrderEventsBus } from './order-events';
import { isFinal } from './order-state';
import type { OrderView } from './orders.repository';
import { OrdersService } from './orders.service';

const CHANNEL = 'orders:changed';

/**
 * Live order status for WatchOrder. Every order event is broadcast (order id only) on a Redis
 * pub/sub channel by whichever worker consumed it, so the instance holding a watcher's stream
 * need not be the one that changed or relayed the order. On a broadcast the watcher re-reads
 * the order from the primary and emits it if the status moved: events may arrive out of order
 * or twice, the stream still shows the current state, once per change.
 */
@Injectable()
export class OrderWatchers implements OnModuleInit, BeforeApplicationShutdown {
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly open = new Set<Subscriber<OrderView>>();

  constructor(
    private readonly redis: RedisService,
    private readonly orders: OrdersService,
    bus: OrderEventsBus,
  ) {
    for (const type of Object.values(ORDER_EVENTS))
      bus.on(type, (e) =>
        this.redis.client.publish(this.redis.key('ch', CHANNEL), e.orderId).then(() => undefined),
      );
  }

  async onModuleInit(): Promise<void> {
    await this.redis.subscribe(CHANNEL, (orderId) => {
      for (const fn of this.listeners.get(orderId) ?? []) fn();
    });
  }

  /** The owner's order now, then on each status change; completes after a final status. */
  watch(userId: string, orderId: string): Observable<OrderView> {
    return new Observable<OrderView>((sub) => {
      this.open.add(sub);
      let last: string | undefined;
      let chain: Promise<void> = Promise.resolve();
      const emit = (v: OrderView | undefined) => {
        if (!v || sub.closed || v.status === last) return;
        last = v.status;
        sub.next(v);
        if (isFinal(v.status)) sub.complete();
      };
      const refresh = () => {
        chain = chain
          .then(async () => emit(await this.orders.getForSystem(orderId)))
          .catch((err: unknown) => sub.error(err));
      };
      // Listen before the first read, so a change between the two is not missed.
      let set = this.listeners.get(orderId);
      if (!set) this.listeners.set(orderId, (set = new Set()));
      set.add(refresh);
      chain = this.orders
        .get(userId, orderId)
        .then(emit)
        .catch((err: unknown) => sub.error(err));
      return () => {
        this.open.delete(sub);
        set.delete(refresh);
        if (!set.size) this.listeners.delete(orderId);
      };
    });
  }

  /** How many streams watch this order on this instance. */
  watching(orderId: string): number {
    return this.listeners.get(orderId)?.size ?? 0;
  }

  /** Ends every stream so the gRPC server can drain. */
  beforeApplicationShutdown(): void {
    for (const sub of [...this.open]) sub.complete();
  }
}
