import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { Metadata, ServerUnaryCall, status } from '@grpc/grpc-js';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';
import { Observable, from, map, switchMap } from 'rxjs';
import { AUTH_USER_KEY, AuthUser } from '../common/auth';
import { UnauthenticatedError, ValidationFailedError } from '../common/errors/domain-error';
import { isUuid } from '../common/uuid';
import { GrpcExceptionFilter } from '../infra/grpc/grpc-exception.filter';
import { CreateOrderDto } from './create-order.dto';
import { checkIdempotencyKey } from './orders.controller';
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

type Call = ServerUnaryCall<unknown, unknown>;

export function toMessage(o: OrderView): OrderMessage {
  const ms = new Date(o.createdAt).getTime();
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
    created_at: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
  };
}

function caller(metadata: Metadata): AuthUser {
  const user = (metadata as unknown as Record<string, AuthUser | undefined>)[AUTH_USER_KEY];
  if (!user) throw new UnauthenticatedError();
  return user;
}

function orderId(id: unknown): string {
  if (typeof id !== 'string' || !isUuid(id))
    throw new ValidationFailedError('id: must be an order id (UUID)');
  return id.toLowerCase();
}

/** A call whose client gave up (cancelled, or its deadline passed) is not started. */
function checkAlive(call: Call): void {
  const deadline = call.getDeadline?.();
  const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  if (call.cancelled || (Number.isFinite(ms) && ms <= Date.now()))
    throw new RpcException({
      code: status.DEADLINE_EXCEEDED,
      message: 'Deadline exceeded before the call started',
    });
}

const flatten = (errors: ValidationError[], parent = ''): { field: string; errors: string[] }[] =>
  errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    return [
      ...(e.constraints ? [{ field, errors: Object.values(e.constraints) }] : []),
      ...flatten(e.children ?? [], field),
    ];
  });

/**
 * shop.orders.v1.OrderService: a thin adapter over OrdersService, the same service the REST
 * controller calls. Authentication is the global guard (metadata `authorization`); errors are
 * mapped by GrpcExceptionFilter; input is validated with the REST DTO classes.
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
    call: Call,
  ): Promise<OrderMessage> {
    const user = caller(metadata);
    const dto = plainToInstance(CreateOrderDto, {
      items: (req.items ?? []).map((i) => ({ sku: i.sku, quantity: i.quantity })),
    });
    const problems = flatten(await validate(dto, { whitelist: true, forbidNonWhitelisted: true }));
    if (problems.length)
      throw new ValidationFailedError(`${problems[0].field}: ${problems[0].errors[0]}`, problems);
    const key = checkIdempotencyKey(req.idempotency_key);
    checkAlive(call);
    return toMessage(await this.orders.create(user.id, dto.items, key));
  }

  @GrpcMethod('OrderService', 'GetOrder')
  async getOrder(req: { id?: string }, metadata: Metadata, call: Call): Promise<OrderMessage> {
    const user = caller(metadata);
    const id = orderId(req.id);
    checkAlive(call);
    return toMessage(await this.orders.get(user.id, id));
  }

  @GrpcMethod('OrderService', 'ListOrders')
  async listOrders(
    req: { page_size?: number; page_token?: string },
    metadata: Metadata,
    call: Call,
  ): Promise<{ orders: OrderMessage[]; next_page_token: string }> {
    const user = caller(metadata);
    const size = req.page_size ?? 0;
    if (!Number.isInteger(size) || size < 0) throw new ValidationFailedError('page_size: must be 0 or more');
    checkAlive(call);
    const page = await this.orders.list(user.id, {
      limit: size === 0 ? undefined : Math.min(size, MAX_PAGE_SIZE),
      cursor: req.page_token || undefined,
    });
    return { orders: page.items.map(toMessage), next_page_token: page.nextCursor ?? '' };
  }

  @GrpcMethod('OrderService', 'CancelOrder')
  async cancelOrder(req: { id?: string }, metadata: Metadata, call: Call): Promise<OrderMessage> {
    const user = caller(metadata);
    const id = orderId(req.id);
    checkAlive(call);
    return toMessage(await this.orders.cancel(user.id, id));
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
    return from(Promise.resolve().then(() => ({ user: caller(metadata), id: orderId(req.id) }))).pipe(
      switchMap(({ user, id }) => this.watchers.watch(user.id, id, connection)),
      map(toMessage),
    );
  }
}
