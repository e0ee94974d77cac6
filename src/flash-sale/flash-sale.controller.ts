import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AuthUser, CurrentUser, Public, Roles } from '../common/auth';
import {
  CreateFlashSaleDto,
  FlashSaleCreatedDto,
  FlashSaleDto,
  PurchaseResultDto,
  ReservationCreatedDto,
} from './create-flash-sale.dto';
import { FlashSaleSettlement, ReconcileReport } from './flash-sale-settlement.service';
import { FlashSaleService } from './flash-sale.service';

@ApiTags('flash-sales')
@ApiBearerAuth()
@Controller('flash-sales')
export class FlashSaleController {
  constructor(
    private readonly sales: FlashSaleService,
    private readonly settlement: FlashSaleSettlement,
  ) {}

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

  @Get(':id/purchase')
  @ApiOkResponse({ type: PurchaseResultDto })
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
