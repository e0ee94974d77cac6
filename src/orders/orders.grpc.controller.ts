import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, from, map, switchMap } from 'rxjs';
import { ValidationFailedError } from '../common/errors/domain-error';
import {
  GrpcCall,
  assertCallAlive,
  grpcCaller,
  grpcDto,
  grpcId,
  grpcTimestamp,
} from '../infra/grpc/grpc-adapter';
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
  async createOrder(
    req: { items?: { sku: string; quantity: number }[]; idempotency_key?: string },
    metadata: Metadata,
    call: GrpcCall,
  ): Promise<OrderMessage> {
    const user = grpcCaller(metadata);
    const dto = await grpcDto(CreateOrderDto, {
      items: (req.items ?? []).map((i) => ({ sku: i.sku, quantity: i.quantity })),
    });
    const key = checkIdempotencyKey(req.idempotency_key);
    assertCallAlive(call);
    return toMessage(await this.orders.create(user.id, dto.items, key));
  }

  @GrpcMethod('OrderService', 'GetOrder')
  async getOrder(req: { id?: string }, metadata: Metadata, call: GrpcCall): Promise<OrderMessage> {
    const user = grpcCaller(metadata);
    const id = orderId(req.id);
    assertCallAlive(call);
    return toMessage(await this.orders.get(user.id, id));
  }

  @GrpcMethod('OrderService', 'ListOrders')
  async listOrders(
    req: { page_size?: number; page_token?: string },
    metadata: Metadata,
    call: GrpcCall,
  ): Promise<{ orders: OrderMessage[]; next_page_token: string }> {
    const user = grpcCaller(metadata);
    const size = req.page_size ?? 0;
    if (!Number.isInteger(size) || size < 0) throw new ValidationFailedError('page_size: must be 0 or more');
    assertCallAlive(call);
    const page = await this.orders.list(user.id, {
      limit: size === 0 ? undefined : Math.min(size, MAX_PAGE_SIZE),
      cursor: req.page_token || undefined,
    });
    return { orders: page.items.map(toMessage), next_page_token: page.nextCursor ?? '' };
  }

  @GrpcMethod('OrderService', 'CancelOrder')
  async cancelOrder(req: { id?: string }, metadata: Metadata, call: GrpcCall): Promise<OrderMessage> {
    const user = grpcCaller(metadata);
    const id = orderId(req.id);
    assertCallAlive(call);
    return toMessage(await this.orders.cancel(user.id, id));
  }

  /** The order now, then on every status change; ends after a final status (or when the client leaves). */
  @GrpcMethod('OrderService', 'WatchOrder')
  watchOrder(req: { id?: string }, metadata: Metadata): Observable<OrderMessage> {
    // Validation errors surface through the stream, so the filter maps them like the unary calls.
    return from(Promise.resolve().then(() => ({ user: grpcCaller(metadata), id: orderId(req.id) }))).pipe(
      switchMap(({ user, id }) => this.watchers.watch(user.id, id)),
      map(toMessage),
    );
  }
}
