import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { Observable, from, map, switchMap } from 'rxjs';
import { ValidationFailedError } from '../common/errors/domain-error';
import { GrpcCall, grpcCaller, grpcDto, grpcId, grpcTimestamp, grpcUnary } from '../infra/grpc/grpc-adapter';
import { GrpcExceptionFilter } from '../infra/grpc/grpc-exception.filter';
import { CreateOrderDto } from './orders.dto';
import { checkIdempotencyKey } from './idempotency-key';
import type { OrderView } from './orders.types';
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

export function toMessage(o: OrderView): OrderMessage {
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
    created_at: grpcTimestamp(o.createdAt),
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
    private readonly placement: OrderPlacement,
    private readonly watchers: OrderWatchers,
  ) {}

  @GrpcMethod('OrderService', 'CreateOrder')
  createOrder(req: CreateOrderMessage, metadata: Metadata, call: GrpcCall): Promise<OrderMessage> {
    return grpcUnary(
      metadata,
      call,
      async () => ({
        dto: await grpcDto(CreateOrderDto, createOrderBody(req)),
        key: checkIdempotencyKey(req.idempotency_key),
      }),
      async ({ dto, key }, user) => toMessage(await this.placement.create(user, dto, key)),
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
