import { CrudRoutes } from '../infra/http/crud-routes';
import { AdminController, ReadRoute } from '../infra/http/routes';
import { Param, Query } from '@nestjs/common';
import { CouponDto, CouponPageDto, CreateCouponDto, ListCouponsQuery, UpdateCouponDto } from './coupon.dto';
import type { CouponView } from './coupon.types';
import { CouponsService } from './coupons.service';

@AdminController('coupons', 'admin/coupons')
export class AdminCouponsController extends CrudRoutes(CouponsService, 'coupon', {
  dtos: [CouponDto, CreateCouponDto, UpdateCouponDto],
  conflicts: ['COUPON_CODE_TAKEN'],
  notes: { update: 'the usage counter moves only with orders' },
  instead: {
    summary: 'Deactivate a coupon (admin); orders that used it keep it, cancellations still give uses back',
    run: (coupons, id) => coupons.deactivate(id),
  },
}) {
  @ReadRoute({ type: CouponPageDto, summary: 'Coupons, newest first, with their live usage counter (admin)' })
  list(@Query() q: ListCouponsQuery): Promise<{ items: CouponView[]; nextCursor: string | null }> {
    return this.service.list(q.limit, q.cursor);
  }

  @ReadRoute({ type: CouponDto }, ':id')
  get(@Param('id') id: string): Promise<CouponView> {
    return this.service.get(id);
  }
}
