import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AddressBookEntity, AddressEntity } from './address.entity';
import { AddressesController } from './addresses.controller';
import { AddressesRepository } from './addresses.repository';
import { AddressesService } from './addresses.service';

/** The customers' address books. Checkout and flash-sale orders read them through AddressesService. */
@Module({
  imports: [TypeOrmModule.forFeature([AddressEntity, AddressBookEntity])],
  controllers: [AddressesController],
  providers: [AddressesService, AddressesRepository],
  exports: [AddressesService],
})
export class AddressesModule {}
