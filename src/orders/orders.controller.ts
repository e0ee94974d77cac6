import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuthUser, CurrentUser, Roles } from '../common/auth';
import { CreateOrderDto } from './create-order.dto';
import { checkIdempotencyKey } from './idempotency-key';
import { AdminListOrdersQueryDto, ListOrdersQueryDto } from './list-orders.dto';
import { OrderDto, OrderPageDto } from './order.dto';
import type { OrderView } from './orders.repository';
import { OrderPage, OrdersService } from './orders.service';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({
    summary: 'Place an order',
    description:
      'Prices come from the catalog; stock is reserved until payment or expiry. 409 INSUFFICIENT_STOCK, ' +
      '404 SKU_NOT_FOUND, 409 SKU_INACTIVE, 422 MIXED_CURRENCIES, 422 IDEMPOTENCY_KEY_REUSED, 409 IDEMPOTENCY_IN_PROGRESS. ' +
      'Lines of one SKU are added up before every per-SKU limit. Per customer (docs/decisions/0018-order-limits.md): ' +
      'at most ORDER_MAX_UNPAID_ORDERS unpaid orders (409 UNPAID_ORDER_LIMIT), ORDER_MAX_UNPAID_UNITS_PER_SKU units of ' +
      'one SKU across them (409 SKU_HOLD_LIMIT), ORDER_RATE_LIMIT orders per window (429 RATE_LIMITED, Retry-After).',
  })
  @ApiResponse({
    status: 409,
    description:
      'INSUFFICIENT_STOCK, SKU_INACTIVE, IDEMPOTENCY_IN_PROGRESS, UNPAID_ORDER_LIMIT (too many unpaid orders: pay or cancel one), ' +
      'SKU_HOLD_LIMIT (too many unpaid units of one SKU; details: sku, limit, held, requested)',
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
  @ApiCreatedResponse({ type: OrderDto })
  create(
    @CurrentUser() user: AuthUser,
    @Body() body: CreateOrderDto,
    @Headers('idempotency-key') key?: string,
  ): Promise<OrderView> {
    return this.orders.create(user.id, body.items, checkIdempotencyKey(key));
  }

  @Get()
  @ApiOperation({ summary: 'My orders, newest first' })
  @ApiOkResponse({ type: OrderPageDto })
  list(@CurrentUser() user: AuthUser, @Query() q: ListOrdersQueryDto): Promise<OrderPage> {
    return this.orders.list(user.id, q);
  }

  @Get(':id')
  @ApiOkResponse({ type: OrderDto })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    return this.orders.get(user.id, id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel an unpaid order (409 ILLEGAL_TRANSITION otherwise)' })
  @ApiOkResponse({ type: OrderDto })
  cancel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<OrderView> {
    return this.orders.cancel(user.id, id);
  }
}

@ApiTags('orders')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/orders')
export class AdminOrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @ApiOperation({ summary: 'All orders, newest first (admin)' })
  @ApiOkResponse({ type: OrderPageDto })
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
