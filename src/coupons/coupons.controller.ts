import { ApiErrorCodes } from '../infra/http/openapi-errors';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
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

  @Post()
  @ApiOperation({ summary: 'Create a coupon (admin); 409 COUPON_CODE_TAKEN' })
  @ApiErrorCodes({ 409: ['COUPON_CODE_TAKEN'] })
  @ApiCreatedResponse({ type: CouponDto })
  create(@Body() body: CreateCouponDto): Promise<CouponView> {
    return this.coupons.create(body);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a coupon (admin); the usage counter moves only with orders' })
  @ApiOkResponse({ type: CouponDto })
  update(@Param('id') id: string, @Body() body: UpdateCouponDto): Promise<CouponView> {
    return this.coupons.update(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Deactivate a coupon (admin); orders that used it keep it, cancellations still give uses back',
  })
  @ApiNoContentResponse()
  async remove(@Param('id') id: string): Promise<void> {
    await this.coupons.deactivate(id);
  }
}
