import { CreateRoute, DeleteRoute, UpdateRoute } from '../infra/http/admin-routes';
import { Body, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public, Roles } from '../common/auth';
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

@ApiTags('shipping')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/shipping-methods')
export class AdminShippingController {
  constructor(private readonly shipping: ShippingService) {}

  @Get()
  @ApiOperation({ summary: 'Every shipping method, active or not (admin)' })
  @ApiOkResponse({ type: ShippingMethodListDto })
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
