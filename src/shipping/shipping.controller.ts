import { AdminController, CreateRoute, DeleteRoute, ReadRoute, UpdateRoute } from '../infra/http/routes';
import { Body, Controller, Get, Param, Query } from '@nestjs/common';
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
export class AdminShippingController {
  constructor(private readonly shipping: ShippingService) {}

  @ReadRoute({ type: ShippingMethodListDto, summary: 'Every shipping method, active or not (admin)' })
  async list(): Promise<{ items: ShippingMethodView[] }> {
    return { items: await this.shipping.all() };
  }

  @CreateRoute({
    type: ShippingMethodDto,
    summary: 'Create a shipping method (admin); 409 SHIPPING_METHOD_CODE_TAKEN',
    conflicts: ['SHIPPING_METHOD_CODE_TAKEN'],
  })
  create(@Body() body: CreateShippingMethodDto): Promise<ShippingMethodView> {
    return this.shipping.create(body);
  }

  @UpdateRoute({
    type: ShippingMethodDto,
    summary: 'Change a shipping method (admin); past orders keep what they were charged',
  })
  update(@Param('id') id: string, @Body() body: UpdateShippingMethodDto): Promise<ShippingMethodView> {
    return this.shipping.update(id, body);
  }

  @DeleteRoute({ summary: 'Delete a shipping method (admin)' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.shipping.delete(id);
  }
}
