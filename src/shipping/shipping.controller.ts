import { CrudRoutes } from '../infra/http/crud-routes';
import { AdminController, ReadRoute } from '../infra/http/routes';
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
export class AdminShippingController extends CrudRoutes(ShippingService, {
  view: ShippingMethodDto,
  create: {
    body: CreateShippingMethodDto,
    summary: 'Create a shipping method (admin); 409 SHIPPING_METHOD_CODE_TAKEN',
    conflicts: ['SHIPPING_METHOD_CODE_TAKEN'],
  },
  update: {
    body: UpdateShippingMethodDto,
    summary: 'Change a shipping method (admin); past orders keep what they were charged',
  },
  delete: { summary: 'Delete a shipping method (admin)' },
}) {
  @ReadRoute({ type: ShippingMethodListDto, summary: 'Every shipping method, active or not (admin)' })
  async list(): Promise<{ items: ShippingMethodView[] }> {
    return { items: await this.service.all() };
  }
}
