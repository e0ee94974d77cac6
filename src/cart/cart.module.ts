import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { UsersModule } from '../users/users.module';
import { CartController } from './cart.controller';
import { CartService } from './cart.service';
import { CartStore } from './cart.store';

/** The customers' carts (Redis). Checkout reads them through CartService. */
@Module({
  imports: [CatalogModule, UsersModule],
  controllers: [CartController],
  providers: [CartService, CartStore],
  exports: [CartService],
})
export class CartModule {}
