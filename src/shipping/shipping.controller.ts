import { CrudRoutes } from '../infra/http/crud-routes';
import { AdminController } from '../infra/http/routes';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth';
import {
  AvailableShippingQuery,
  CreateShippingMethodDto,
  ShippingMethodDto,
  ShippingMethodListDto,
  UpdateShippingMethodDto,
} from './shipping.dto';
import { ShippingService } from './shipping.service';
import type { ShippingMethodView } from './shipping.types';

@ApiTags('shipping')
@Controller('shipping-methods')
export class ShippingController {
  constructor(private readonly shipping: ShippingService) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Shipping methods available for a destination country (and currency)' })
  @ApiOkResponse({ type: ShippingMethodListDto })
  async available(@Query() q: AvailableShippingQuery): Promise<{ items: ShippingMethodView[] }> {
    return { items: await this.shipping.availableFor(q.country, q.currency) };
  }
}

@AdminController('shipping', 'admin/shipping-methods')
export class AdminShippingController extends CrudRoutes(ShippingService, 'shipping method', {
  dtos: [ShippingMethodDto, CreateShippingMethodDto, UpdateShippingMethodDto],
  conflicts: ['SHIPPING_METHOD_CODE_TAKEN'],
  notes: { update: 'past orders keep what they were charged' },
  list: { type: ShippingMethodListDto, summary: 'Every shipping method, active or not (admin)' },
}) {}
