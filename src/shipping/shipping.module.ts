import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheModule } from '../infra/cache/cache.module';
import { ShippingMethodEntity } from './shipping-method.entity';
import { AdminShippingController, ShippingController } from './shipping.controller';
import { ShippingRepository } from './shipping.repository';
import { ShippingService } from './shipping.service';

/** Admin-managed shipping methods; checkout prices them through ShippingService.charge. */
@Module({
  imports: [TypeOrmModule.forFeature([ShippingMethodEntity]), CacheModule],
  controllers: [ShippingController, AdminShippingController],
  providers: [ShippingService, ShippingRepository],
  exports: [ShippingService],
})
export class ShippingModule {}
