import { ReadRoute, SignedInController } from '../infra/http/routes';
import { Body, Get, HttpCode, OnModuleInit, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiCreatedResponse, ApiOkResponse } from '@nestjs/swagger';
import { AuthUser, CurrentUser, Public, Roles } from '../common/auth';
import {
  CreateFlashSaleDto,
  FlashSaleCreatedDto,
  FlashSaleDto,
  PurchaseResultDto,
  ReservationCreatedDto,
} from './flash-sale.dto';
import { EdgeAnswer, EdgeRoutes } from '../infra/http/edge-routes';
import { AccessTokens } from '../users';
import { FlashSaleSettlement } from './flash-sale-settlement.service';
import type { ReconcileReport } from './flash-sale.types';
import { SoldOutError } from './flash-sale.errors';
import { FlashSaleService } from './flash-sale.service';

const SOLD_OUT = new SoldOutError();
/** The SOLD_OUT error body up to its request id (the contract's error shape). */
const SOLD_OUT_HEAD = JSON.stringify({
  statusCode: 409,
  code: SOLD_OUT.code,
  message: SOLD_OUT.message,
}).slice(0, -1);

@SignedInController('flash-sales', 'flash-sales')
export class FlashSaleController implements OnModuleInit {
  constructor(
    private readonly sales: FlashSaleService,
    private readonly settlement: FlashSaleSettlement,
    private readonly edge: EdgeRoutes,
    private readonly tokens: AccessTokens,
  ) {}

  /**
   * The purchase route at the HTTP edge (EdgeRoutes): during a burst every request is a purchase,
   * and its answer is an in-process flag (sold out) or one Redis round trip. A caller without a
   * valid bearer token is left to the pipeline (the guard's 401); otherwise the edge answers with
   * the same service call as `purchase` below.
   */
  onModuleInit(): void {
    this.edge.add(
      'POST',
      'flash-sales/:id/purchase',
      (id, req, ctx): EdgeAnswer | Promise<EdgeAnswer> | undefined => {
        const user = this.tokens.fromAuthorization(req.headers.authorization);
        if (!user) return undefined;
        ctx.userId = user.id;
        ctx.role = user.role;
        if (this.sales.soldOutLocally(id))
          return { status: 409, body: `${SOLD_OUT_HEAD},"requestId":${JSON.stringify(ctx.requestId)}}` };
        return this.sales.purchase(id, user.id).then((r) => ({ status: 202, body: JSON.stringify(r) }));
      },
    );
  }

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: FlashSaleCreatedDto })
  @ApiConflictResponse({ description: 'INSUFFICIENT_STOCK: the SKU has fewer available units' })
  create(@Body() dto: CreateFlashSaleDto): Promise<{ id: string }> {
    return this.sales.create(dto);
  }

  @Get(':id')
  @Public()
  @ApiOkResponse({ type: FlashSaleDto })
  get(@Param('id') id: string): Promise<FlashSaleDto> {
    return this.sales.get(id);
  }

  @Post(':id/purchase')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: ReservationCreatedDto, description: 'A unit is reserved; the order follows' })
  @ApiConflictResponse({ description: 'SOLD_OUT, ALREADY_PURCHASED or NOT_ACTIVE' })
  purchase(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<{ reservationId: string }> {
    return this.sales.purchase(id, user.id);
  }

  @ReadRoute({ type: PurchaseResultDto }, ':id/purchase')
  result(@Param('id') id: string, @CurrentUser() user: AuthUser): Promise<PurchaseResultDto> {
    return this.sales.purchaseResult(id, user.id);
  }

  @Post(':id/reconcile')
  @Roles('admin')
  @HttpCode(200)
  @ApiOkResponse({ description: 'Redis counters compared with database reservations and orders' })
  reconcile(@Param('id') id: string): Promise<ReconcileReport> {
    return this.settlement.reconcile(id);
  }
}
