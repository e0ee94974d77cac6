import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, from, map, switchMap } from 'rxjs';
import { ValidationFailedError } from '../common/errors/domain-error';
import { GrpcCall, grpcCaller, grpcDto, grpcId, grpcTimestamp, grpcUnary } from '../infra/grpc/grpc-adapter';
import { GrpcExceptionFilter } from '../infra/grpc/grpc-exception.filter';
import { CreateOrderDto } from './create-order.dto';
import { checkIdempotencyKey } from './idempotency-key';
import type { OrderView } from './orders.repository';
import { MAX_PAGE_SIZE, OrdersService } from './orders.service';
import { OrderWatchers } from './order-watchers.service';

/** Wire shapes of shop.orders.v1 (snake_case, as in the .proto; enums by name). */
interface Money {
  currency_code: string;
  amount_minor: number;
}
export interface OrderMessage {
  id: string;
  user_id: string;
  status: string;
  items: { sku: string; product_name: string; quantity: number; unit_price: Money }[];
  total: Money;
  created_at: { seconds: number; nanos: number };
}

export function toMessage(o: OrderView): OrderMessage {
  return {
    id: o.id,
    user_id: o.userId,
    status: `ORDER_STATUS_${o.status}`,
    items: o.items.map((i) => ({
      sku: i.sku,
      product_name: i.productName,
      quantity: i.quantity,
      unit_price: { currency_code: i.currency, amount_minor: i.unitPrice },
    })),
    total: { currency_code: o.total.currency, amount_minor: o.total.amount },
    created_at: grpcTimestamp(o.createdAt),
  };
}

const orderId = (id: unknown): string => grpcId('id', id, 'an order id');

/**
 * shop.orders.v1.OrderService: a thin adapter over OrdersService, the same service the REST
 * controller calls, through the gRPC adapter helper (caller, ids, the REST DTO classes, the
 * deadline); errors are mapped by GrpcExceptionFilter.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class OrdersGrpcController {
  constructor(
    private readonly orders: OrdersService,
    private readonly watchers: OrderWatchers,
  ) {}

  @GrpcMethod('OrderService', 'CreateOrder')
  createOrder(
    req: { items?: { sku: string; quantity: number }[]; idempotency_key?: string },
    metadata: Metadata,
    call: GrpcCall,
  ): Promise<OrderMessage> {
    return grpcUnary(
      metadata,
      call,
      async () => ({
        dto: await grpcDto(CreateOrderDto, {
          items: (req.items ?? []).map((i) => ({ sku: i.sku, quantity: i.quantity })),
        }),
        key: checkIdempotencyKey(req.idempotency_key),
      }),
      async ({ dto, key }, user) => toMessage(await this.orders.create(user.id, dto.items, key)),
    );
  }

  @GrpcMethod('OrderService', 'GetOrder')
  getOrder(req: { id?: string }, metadata: Metadata, call: GrpcCall): Promise<OrderMessage> {
    return this.byId(req, metadata, call, (userId, id) => this.orders.get(userId, id));
  }

  @GrpcMethod('OrderService', 'ListOrders')
  listOrders(
    req: { page_size?: number; page_token?: string },
    metadata: Metadata,
    call: GrpcCall,
  ): Promise<{ orders: OrderMessage[]; next_page_token: string }> {
    return grpcUnary(
      metadata,
      call,
      () => {
        const size = req.page_size ?? 0;
        if (!Number.isInteger(size) || size < 0)
          throw new ValidationFailedError('page_size: must be 0 or more');
        return {
          limit: size === 0 ? undefined : Math.min(size, MAX_PAGE_SIZE),
          cursor: req.page_token || undefined,
        };
      },
      async (query, user) => {
        const page = await this.orders.list(user.id, query);
        return { orders: page.items.map(toMessage), next_page_token: page.nextCursor ?? '' };
      },
    );
  }

  @GrpcMethod('OrderService', 'CancelOrder')
  cancelOrder(req: { id?: string }, metadata: Metadata, call: GrpcCall): Promise<OrderMessage> {
    return this.byId(req, metadata, call, (userId, id) => this.orders.cancel(userId, id));
  }

  /** A unary call on one of the caller's orders, by id. */
  private byId(
    req: { id?: string },
    metadata: Metadata,
    call: GrpcCall,
    act: (userId: string, orderId: string) => Promise<OrderView>,
  ): Promise<OrderMessage> {
    return grpcUnary(
      metadata,
      call,
      () => orderId(req.id),
      async (id, user) => toMessage(await act(user.id, id)),
    );
  }

  /** The order now, then on every status change; ends after a final status (or when the client leaves). */
  @GrpcMethod('OrderService', 'WatchOrder')
  watchOrder(
    req: { id?: string },
    metadata: Metadata,
    call?: { getPeer?: () => string },
  ): Observable<OrderMessage> {
    // The peer address names the caller's connection (per-connection stream cap).
    const connection = call?.getPeer?.() ?? '';
    // Validation errors surface through the stream, so the filter maps them like the unary calls.
    return from(Promise.resolve().then(() => ({ user: grpcCaller(metadata), id: orderId(req.id) }))).pipe(
      switchMap(({ user, id }) => this.watchers.watch(user.id, id, connection)),
      map(toMessage),
    );
  }
}
