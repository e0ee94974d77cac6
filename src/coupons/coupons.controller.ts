import { AdminController, CreateRoute, DeleteRoute, ReadRoute, UpdateRoute } from '../infra/http/routes';
import { Body, Param, Query } from '@nestjs/common';
import { CouponDto, CouponPageDto, CreateCouponDto, ListCouponsQuery, UpdateCouponDto } from './coupon.dto';
import type { CouponView } from './coupon.types';
import { CouponsService } from './coupons.service';

@AdminController('coupons', 'admin/coupons')
export class AdminCouponsController {
  constructor(private readonly coupons: CouponsService) {}

  @ReadRoute({ type: CouponPageDto, summary: 'Coupons, newest first, with their live usage counter (admin)' })
  list(@Query() q: ListCouponsQuery): Promise<{ items: CouponView[]; nextCursor: string | null }> {
    return this.coupons.list(q.limit, q.cursor);
  }

  @ReadRoute({ type: CouponDto }, ':id')
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
