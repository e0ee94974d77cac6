import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheModule } from '../infra/cache/cache.module';
import { CouponCustomerUseEntity, CouponEntity, CouponRedemptionEntity } from './coupon.entity';
import { AdminCouponsController } from './coupons.controller';
import { CouponsRepository } from './coupons.repository';
import { CouponsService } from './coupons.service';

/** Coupons and their redemptions; checkout and orders use CouponsService. */
@Module({
  imports: [
    TypeOrmModule.forFeature([CouponEntity, CouponRedemptionEntity, CouponCustomerUseEntity]),
    CacheModule,
  ],
  controllers: [AdminCouponsController],
  providers: [CouponsService, CouponsRepository],
  exports: [CouponsService],
})
export class CouponsModule {}
