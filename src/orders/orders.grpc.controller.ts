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
import { OrderPlacement } from './order-placement.service';
import { MAX_PAGE_SIZE, OrdersService } from './orders.service';
import { OrderWatchers } from './order-watchers.service';

/** Wire shapes of shop.orders.v1 (snake_case, as in the .proto; enums by name). */
interface Money {
  currency_code: string;
  amount_minor: number;
}
interface AddressMessage {
  full_name: string;
  company: string;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postal_code: string;
  country_code: string;
  phone: string;
}
export interface OrderMessage {
  id: string;
  user_id: string;
  status: string;
  items: {
    sku: string;
    product_name: string;
    quantity: number;
    unit_price: Money;
    line_total: Money;
    discount: Money;
    tax: Money;
    tax_rate_bp: number;
  }[];
  total: Money;
  created_at: { seconds: number; nanos: number };
  breakdown: {
    subtotal: Money;
    discount: Money;
    shipping: Money;
    tax: Money;
    tax_included: boolean;
    total: Money;
  };
  shipping_address: AddressMessage | null;
  shipping_method: string;
  coupon_code: string;
  awaiting_address: boolean;
  tax_country: string;
}

export interface CreateOrderMessage {
  items?: { sku: string; quantity: number }[];
  idempotency_key?: string;
  from_cart?: boolean;
  address_id?: string;
  shipping_address?: Partial<AddressMessage> | null;
  shipping_method?: string;
  coupon_code?: string;
  expected_total?: Partial<Money> | null;
}

/** The CreateOrder message as the REST body (proto3 sends "" and false for unset fields). */
function createOrderBody(req: CreateOrderMessage): Record<string, unknown> {
  const s = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const a = req.shipping_address;
  return {
    items:
      req.from_cart && !req.items?.length
        ? undefined
        : (req.items ?? []).map((i) => ({ sku: i.sku, quantity: i.quantity })),
    fromCart: req.from_cart ? true : undefined,
    addressId: s(req.address_id),
    shippingAddress: a
      ? {
          fullName: a.full_name,
          company: s(a.company),
          line1: a.line1,
          line2: s(a.line2),
          city: a.city,
          region: s(a.region),
          postalCode: a.postal_code,
          country: a.country_code,
          phone: s(a.phone),
        }
      : undefined,
    shippingMethod: s(req.shipping_method),
    couponCode: s(req.coupon_code),
    expectedTotal: req.expected_total ? Number(req.expected_total.amount_minor ?? 0) : undefined,
  };
}

type Call = ServerUnaryCall<unknown, unknown>;

export function toMessage(o: OrderView): OrderMessage {
  const ms = new Date(o.createdAt).getTime();
  const money = (amount: number) => ({ currency_code: o.total.currency, amount_minor: amount });
  const b = o.breakdown;
  const a = o.shippingAddress;
  return {
    id: o.id,
    user_id: o.userId,
    status: `ORDER_STATUS_${o.status}`,
    items: o.items.map((i) => ({
      sku: i.sku,
      product_name: i.productName,
      quantity: i.quantity,
      unit_price: { currency_code: i.currency, amount_minor: i.unitPrice },
      line_total: money(i.lineTotal),
      discount: money(i.discount),
      tax: money(i.tax),
      tax_rate_bp: i.taxRateBp,
    })),
    total: { currency_code: o.total.currency, amount_minor: o.total.amount },
    created_at: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 },
    breakdown: {
      subtotal: money(b.subtotal),
      discount: money(b.discount),
      shipping: money(b.shipping),
      tax: money(b.tax),
      tax_included: b.taxIncluded,
      total: money(b.total),
    },
    shipping_address: a
      ? {
          full_name: a.fullName,
          company: a.company ?? '',
          line1: a.line1,
          line2: a.line2 ?? '',
          city: a.city,
          region: a.region ?? '',
          postal_code: a.postalCode,
          country_code: a.country,
          phone: a.phone ?? '',
        }
      : null,
    shipping_method: o.shippingMethod?.code ?? '',
    coupon_code: o.coupon?.code ?? '',
    awaiting_address: o.awaitingAddress,
    tax_country: o.taxCountry ?? '',
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
    private readonly placement: OrderPlacement,
    private readonly watchers: OrderWatchers,
  ) {}

  @GrpcMethod('OrderService', 'CreateOrder')
  async createOrder(req: CreateOrderMessage, metadata: Metadata, call: Call): Promise<OrderMessage> {
    const user = caller(metadata);
    const dto = plainToInstance(CreateOrderDto, createOrderBody(req));
    const problems = flatten(await validate(dto, { whitelist: true, forbidNonWhitelisted: true }));
    if (problems.length)
      throw new ValidationFailedError(`${problems[0].field}: ${problems[0].errors[0]}`, problems);
    const key = checkIdempotencyKey(req.idempotency_key);
    checkAlive(call);
    return toMessage(await this.placement.create(user.id, dto, key));
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
