import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { Observable, Subscriber } from 'rxjs';
import { BatchWriter } from '../common/batch-loader';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
import { MetricsService } from '../infra/observability/metrics.service';
import { RedisService } from '../infra/redis/redis.service';
import type { OrderEvent } from './order-events';
import { isFinal } from './order-state';
import type { OrderView } from './orders.types';
import { OrdersService } from './orders.service';

const CHANNEL = 'orders:changed';
/** The ids of orders changed together go out as one message (comma-separated): per this many, or ms. */
const BROADCAST_BATCH = 100;
const BROADCAST_DELAY_MS = 2;

/** RESOURCE_EXHAUSTED (gRPC) / 429: too many open WatchOrder streams for this caller. */
export class WatchLimitError extends DomainError {
  constructor(scope: 'user' | 'connection', limit: number) {
    super(
      'rate_limited',
      'WATCH_LIMIT',
      `At most ${limit} open WatchOrder streams per ${scope}; close one first`,
      { scope, limit },
    );
  }
}

/** One stream: what it showed last, and how to hand it the order or an error. */
interface Watch {
  emit(order: OrderView | undefined): void;
  fail(err: unknown): void;
}

/** The streams of one order on this instance, and the one read they share. */
interface Watched {
  watches: Set<Watch>;
  /** Reads run one after the other, so an older read never overtakes a newer one. */
  chain: Promise<void>;
  /** A read is queued and has not started: a broadcast arriving now is covered by it. */
  queued: boolean;
}

/**
 * Live order status for WatchOrder. Every order event is broadcast (order id only; the ids of
 * events handled together in one message) on a Redis pub/sub channel by whichever worker consumed it, so the instance holding a watcher's stream
 * need not be the one that changed or relayed the order. On a broadcast the instance re-reads
 * the order from the primary **once for all its streams of that order** and each stream emits it
 * if the status moved: events may arrive out of order or twice, the streams still show the
 * current state, once per change. Broadcasts arriving while a read is still queued are covered
 * by it (one read, not one per broadcast).
 *
 * Bounded (docs/decisions/0018-order-limits.md): per user and per connection (the gRPC peer) on
 * this instance at most ORDER_WATCH_MAX_PER_USER / ORDER_WATCH_MAX_PER_CONNECTION open streams
 * (RESOURCE_EXHAUSTED `WATCH_LIMIT` beyond), and a stream that has shown nothing for
 * ORDER_WATCH_IDLE_SECONDS ends (OK; its last message was not final, so the client may watch
 * again). Dead peers are found by the server's HTTP/2 keepalive (GrpcServer), which cancels
 * their streams.
 */
@Injectable()
export class OrderWatchers implements OnModuleInit, BeforeApplicationShutdown {
  private readonly watched = new Map<string, Watched>();
  private readonly open = new Set<Subscriber<OrderView>>();
  private readonly perUser = new Map<string, number>();
  private readonly perConnection = new Map<string, number>();
  private readonly reads: Counter<never>;
  private readonly changes: BatchWriter<string>;

  constructor(
    private readonly redis: RedisService,
    private readonly orders: OrdersService,
    private readonly config: AppConfig,
    metrics: MetricsService,
  ) {
    this.reads = metrics.counter(
      'shop_order_watch_reads_total',
      'Orders re-read for WatchOrder streams after a change broadcast (one read shared by every stream of the order on this instance)',
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.changes = new BatchWriter(
      async (ids) => {
        await this.redis.client.publish(this.redis.key('ch', CHANNEL), ids.join(','));
      },
      { max: BROADCAST_BATCH, delayMs: BROADCAST_DELAY_MS },
    );
    metrics.gauge('shop_order_watch_streams', 'Open WatchOrder streams on this instance', [], function () {
      this.set(self.open.size);
    });
  }

  async onModuleInit(): Promise<void> {
    await this.redis.subscribe(CHANNEL, (ids) => {
      for (const orderId of ids.split(',')) this.changed(orderId);
    });
  }

  /** An order changed (every order event, OrdersSubscriptions): every instance re-reads it for its streams. */
  async broadcast(e: OrderEvent): Promise<void> {
    await this.changes.write(e.orderId);
  }

  /**
   * The owner's order now, then on each status change; completes after a final status or after
   * ORDER_WATCH_IDLE_SECONDS without a change. `connection` identifies the caller's connection
   * (the gRPC peer address), for the per-connection cap.
   */
  watch(userId: string, orderId: string, connection = ''): Observable<OrderView> {
    return new Observable<OrderView>((sub) => {
      const { maxPerUser, maxPerConnection, idleMs } = this.config.orders.watch;
      if ((this.perUser.get(userId) ?? 0) >= maxPerUser) {
        sub.error(new WatchLimitError('user', maxPerUser));
        return;
      }
      if (connection && (this.perConnection.get(connection) ?? 0) >= maxPerConnection) {
        sub.error(new WatchLimitError('connection', maxPerConnection));
        return;
      }
      bump(this.perUser, userId, 1);
      if (connection) bump(this.perConnection, connection, 1);
      this.open.add(sub);

      let last: string | undefined;
      let idle: NodeJS.Timeout | undefined;
      const armIdle = () => {
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => sub.complete(), idleMs);
        idle.unref();
      };
      const watch: Watch = {
        emit: (v) => {
          if (!v || sub.closed || v.status === last) return;
          last = v.status;
          sub.next(v);
          if (isFinal(v.status)) sub.complete();
          else armIdle();
        },
        fail: (err) => sub.error(err),
      };
      // Listen before the first read, so a change between the two is not missed.
      let entry = this.watched.get(orderId);
      if (!entry)
        this.watched.set(orderId, (entry = { watches: new Set(), chain: Promise.resolve(), queued: false }));
      entry.watches.add(watch);
      armIdle();
      // The first read is the caller's own (it checks ownership: another user's order is NOT_FOUND).
      const first = entry.chain.then(async () => watch.emit(await this.orders.get(userId, orderId)));
      entry.chain = first.catch(() => undefined);
      first.catch((err: unknown) => watch.fail(err));
      return () => {
        if (idle) clearTimeout(idle);
        this.open.delete(sub);
        bump(this.perUser, userId, -1);
        if (connection) bump(this.perConnection, connection, -1);
        const e = this.watched.get(orderId);
        e?.watches.delete(watch);
        if (e && !e.watches.size) this.watched.delete(orderId);
      };
    });
  }

  /** A change broadcast: one read of the order, handed to every stream of it on this instance. */
  private changed(orderId: string): void {
    const entry = this.watched.get(orderId);
    if (!entry || entry.queued) return;
    entry.queued = true;
    entry.chain = entry.chain.then(async () => {
      entry.queued = false;
      if (!entry.watches.size) return;
      this.reads.inc();
      try {
        const order = await this.orders.getForSystem(orderId);
        for (const w of [...entry.watches]) w.emit(order);
      } catch (err) {
        for (const w of [...entry.watches]) w.fail(err);
      }
    });
  }

  /** How many streams watch this order on this instance. */
  watching(orderId: string): number {
    return this.watched.get(orderId)?.watches.size ?? 0;
  }

  /** Ends every stream so the gRPC server can drain. */
  beforeApplicationShutdown(): void {
    for (const sub of [...this.open]) sub.complete();
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
