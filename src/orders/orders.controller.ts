import { AdminController, ReadRoute, SignedInController } from '../infra/http/routes';
import { ApiErrorCodes } from '../infra/http/openapi-errors';
import { Body, Header, Headers, HttpCode, OnModuleInit, Param, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth';
import {
  AdminListOrdersQueryDto,
  CreateOrderDto,
  ListOrdersQueryDto,
  OrderDto,
  OrderPageDto,
  QuoteDto,
  QuoteOrderDto,
  SetOrderAddressDto,
} from './orders.dto';
import { checkIdempotencyKey } from './idempotency-key';
import type { OrderPage, OrderView, QuoteView } from './orders.types';
import { OrderPlacement } from './order-placement.service';
import { MAX_PAGE_SIZE, OrdersService } from './orders.service';
import { EdgeRoutes } from '../infra/http/edge-routes';
import { JSON_TYPE } from '../infra/http/response-headers';
import { AccessTokens } from '../users';

/** The page size of a plain query string (`''` or `limit=N`), or undefined for anything else. */
function plainLimit(query: string): { limit?: number } | undefined {
  if (query === '') return {};
  const m = /^limit=(\d{1,3})$/.exec(query);
  const limit = m ? Number(m[1]) : 0;
  return limit >= 1 && limit <= MAX_PAGE_SIZE ? { limit } : undefined;
}

@SignedInController('orders', 'orders')
export class OrdersController implements OnModuleInit {
  constructor(
    private readonly orders: OrdersService,
    private readonly placement: OrderPlacement,
    private readonly edge: EdgeRoutes,
    private readonly tokens: AccessTokens,
  ) {}

  /**
   * A customer's order list as it opens (`GET /orders`, optionally `?limit=N`) at the HTTP edge
   * (EdgeRoutes): with a valid bearer token it calls the same `listJson` as `list` below; a
   * caller without one, and any other query string, is left to the pipeline.
   */
  onModuleInit(): void {
    this.edge.add(
      'GET',
      'orders',
      (_param, req, ctx, query) => {
        const q = plainLimit(query);
        if (!q) return undefined;
        const user = this.tokens.fromAuthorization(req.headers.authorization);
        if (!user) return undefined;
        ctx.userId = user.id;
        ctx.role = user.role;
        return this.orders.listJson(user.id, q).then((body) => ({ status: 200, body }));
      },
      { query: true },
    );
  }

  @Post()
  @ApiOperation({
    summary: 'Place an order',
    description:
      'Lines from `items` or the cart (`fromCart: true`), shipped to an address of the book (`addressId`) or ' +
      'given inline (`shippingAddress`) with a `shippingMethod`, with an optional `couponCode`; the answer ' +
      "carries the breakdown (docs/checkout.md). Without an address: no shipping, tax of the shop's home country. " +
      'Prices come from the catalog; stock is reserved until payment or expiry. 409 INSUFFICIENT_STOCK, ' +
      '404 SKU_NOT_FOUND, 409 SKU_INACTIVE, 422 MIXED_CURRENCIES, 409 PRICE_CHANGED (expectedTotal differs), ' +
      '404 COUPON_NOT_FOUND, 409 COUPON_EXHAUSTED, 409 COUPON_LIMIT_REACHED, 422 COUPON_NOT_APPLICABLE, ' +
      '422 SHIPPING_NOT_AVAILABLE, 422 ADDRESS_INVALID, 404 ADDRESS_NOT_FOUND, 409 CART_EMPTY, 409 CART_NOT_ORDERABLE, ' +
      '422 IDEMPOTENCY_KEY_REUSED, 409 IDEMPOTENCY_IN_PROGRESS. ' +
      'Lines of one SKU are added up before every per-SKU limit. Per customer (docs/decisions/0018-order-limits.md): ' +
      'at most ORDER_MAX_UNPAID_ORDERS unpaid orders (409 UNPAID_ORDER_LIMIT), ORDER_MAX_UNPAID_UNITS_PER_SKU units of ' +
      'one SKU across them (409 SKU_HOLD_LIMIT), ORDER_RATE_LIMIT orders per window (429 RATE_LIMITED, Retry-After).',
  })
  @ApiResponse({
    status: 429,
    description:
      'RATE_LIMITED: too many orders placed by this customer in the window; retry after Retry-After seconds',
    headers: {
      'Retry-After': {
        description: 'Seconds until an order may be placed again',
        schema: { type: 'integer' },
      },
    },
  })
  @ApiHeader({
    name: 'idempotency-key',
    required: false,
    description: 'Replays return the original order (kept 24 h)',
  })
  @ApiErrorCodes({
    400: ['VALIDATION_FAILED'],
    404: ['SKU_NOT_FOUND', 'COUPON_NOT_FOUND', 'ADDRESS_NOT_FOUND'],
    409: [
      'INSUFFICIENT_STOCK',
      'SKU_INACTIVE',
      'PRICE_CHANGED',
      'COUPON_EXHAUSTED',
      'COUPON_LIMIT_REACHED',
      'CART_EMPTY',
      'CART_NOT_ORDERABLE',
      'IDEMPOTENCY_IN_PROGRESS',
      'UNPAID_ORDER_LIMIT (too many unpaid orders: pay or cancel one)',
      'SKU_HOLD_LIMIT (too many unpaid units of one SKU; details: sku, limit, held, requested)',
    ],
    422: [
      'MIXED_CURRENCIES',
      'COUPON_NOT_APPLICABLE',
      'SHIPPING_NOT_AVAILABLE',
      'ADDRESS_INVALID',
      'IDEMPOTENCY_KEY_REUSED',
    ],
  })
  @ApiCreatedResponse({ type: OrderDto })
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateOrderDto,
    @Headers('idempotency-key') key?: string,
  ): Promise<OrderView> {
    return this.placement.create(user, body, checkIdempotencyKey(key));
  }

  @Post('quote')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Price an order without placing it',
    description:
      'Same body as POST /orders; answers the lines and the breakdown (subtotal, discount, shipping, tax, total). ' +
      'Send its total as `expectedTotal` with the order: if the price changed meanwhile the order answers 409 ' +
      'PRICE_CHANGED with the new breakdown. Nothing is reserved; a coupon use is only taken by the order.',
  })
  @ApiErrorCodes({
    400: ['VALIDATION_FAILED'],
    404: ['SKU_NOT_FOUND', 'COUPON_NOT_FOUND', 'ADDRESS_NOT_FOUND'],
    409: ['SKU_INACTIVE', 'COUPON_EXHAUSTED', 'COUPON_LIMIT_REACHED', 'CART_EMPTY', 'CART_NOT_ORDERABLE'],
    422: ['MIXED_CURRENCIES', 'COUPON_NOT_APPLICABLE', 'SHIPPING_NOT_AVAILABLE', 'ADDRESS_INVALID'],
  })
  @ApiOkResponse({ type: QuoteDto })
  quote(@CurrentUser() user: AuthUser, @Body() body: QuoteOrderDto): Promise<QuoteView> {
    return this.placement.quote(user.id, body);
  }

  @ReadRoute({ type: OrderPageDto, summary: 'My orders, newest first' })
  @Header('content-type', JSON_TYPE)
  list(@CurrentUser() user: AuthUser, @Query() q: ListOrdersQueryDto): Promise<string> {
    return this.orders.listJson(user.id, q);
  }

  @ReadRoute({ type: OrderDto }, ':id')
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    return this.orders.get(user.id, id);
  }

  @Put(':id/address')
  @ApiOperation({
    summary: 'Give an order awaiting its address one (flash-sale orders of buyers without a default address)',
    description:
      '409 ADDRESS_NOT_AWAITED when the order has one already or is no longer unpaid. The price does not change.',
  })
  @ApiOkResponse({ type: OrderDto })
  @ApiErrorCodes({
    404: ['ORDER_NOT_FOUND', 'ADDRESS_NOT_FOUND'],
    409: ['ADDRESS_NOT_AWAITED'],
    422: ['ADDRESS_INVALID'],
  })
  setAddress(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: SetOrderAddressDto) {
    return this.placement.setAddress(user.id, id, body);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an unpaid order (409 ILLEGAL_TRANSITION otherwise)' })
  @ApiOkResponse({ type: OrderDto })
  cancel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    return this.orders.cancel(user.id, id);
  }
}

@AdminController('orders', 'admin/orders')
export class AdminOrdersController {
  constructor(private readonly orders: OrdersService) {}

  @ReadRoute({ type: OrderPageDto, summary: 'All orders, newest first (admin)' })
  list(@Query() q: AdminListOrdersQueryDto): Promise<OrderPage> {
    return this.orders.listAll(q);
  }

  @Post(':id/fulfill')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark a paid order fulfilled (admin)' })
  @ApiOkResponse({ type: OrderDto })
  fulfill(@Param('id') id: string): Promise<OrderView> {
    return this.orders.fulfill(id);
  }
}
