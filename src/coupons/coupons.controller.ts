import { CreateRoute, DeleteRoute, UpdateRoute } from '../infra/http/admin-routes';
import { Body, Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { CouponDto, CouponPageDto, CreateCouponDto, ListCouponsQuery, UpdateCouponDto } from './coupon.dto';
import type { CouponView } from './coupon.types';
import { CouponsService } from './coupons.service';

@ApiTags('coupons')
@ApiBearerAuth()
@Roles('admin')
@Controller('admin/coupons')
export class AdminCouponsController {
  constructor(private readonly coupons: CouponsService) {}

  @Get()
  @ApiOperation({ summary: 'Coupons, newest first, with their live usage counter (admin)' })
  @ApiOkResponse({ type: CouponPageDto })
  list(@Query() q: ListCouponsQuery): Promise<{ items: CouponView[]; nextCursor: string | null }> {
    return this.coupons.list(q.limit, q.cursor);
  }

  @Get(':id')
  @ApiOkResponse({ type: CouponDto })
  get(@Param('id') id: string): Promise<CouponView> {
    return this.coupons.get(id);
  }

  @CreateRoute({
    type: CouponDto,
    summary: 'Create a coupon (admin); 409 COUPON_CODE_TAKEN',
    conflicts: ['COUPON_CODE_TAKEN'],
  })
  create(@Body() body: CreateCouponDto): Promise<CouponView> {
    return this.coupons.create(body);
  }

  @UpdateRoute({
    type: CouponDto,
    summary: 'Change a coupon (admin); the usage counter moves only with orders',
  })
  update(@Param('id') id: string, @Body() body: UpdateCouponDto): Promise<CouponView> {
    return this.coupons.update(id, body);
  }

  @DeleteRoute({
    summary: 'Deactivate a coupon (admin); orders that used it keep it, cancellations still give uses back',
  })
  async remove(@Param('id') id: string): Promise<void> {
    await this.coupons.deactivate(id);
  }
}
