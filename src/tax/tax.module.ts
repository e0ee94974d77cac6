import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CacheModule } from '../infra/cache/cache.module';
import { TaxRateEntity } from './tax-rate.entity';
import { AdminTaxController } from './tax.controller';
import { TaxRepository } from './tax.repository';
import { TaxService } from './tax.service';

/** Tax rates per country (and category) and the per-line tax arithmetic. */
@Module({
  imports: [TypeOrmModule.forFeature([TaxRateEntity]), CacheModule],
  controllers: [AdminTaxController],
  providers: [TaxService, TaxRepository],
  exports: [TaxService],
})
export class TaxModule {}
