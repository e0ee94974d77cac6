import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CatalogModule } from '../catalog/catalog.module';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { InventoryModule } from '../inventory/inventory.module';
import { OrdersModule } from '../orders/orders.module';
import { FlashSaleCloseProcessor } from './flash-sale-close.processor';
import { FlashSaleConsumer } from './flash-sale-consumer.service';
import { FlashSaleDefinitions } from './flash-sale-definitions';
import { FlashSalePersistence } from './flash-sale-persistence.service';
import { FlashSaleRecovery } from './flash-sale-recovery.service';
import { FlashSaleReservation } from './flash-sale-reservation.entity';
import { FlashSaleSettlement } from './flash-sale-settlement.service';
import { FlashSaleController } from './flash-sale.controller';
import { FlashSale } from './flash-sale.entity';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { FlashSaleRepository } from './flash-sale.repository';
import { FlashSaleService } from './flash-sale.service';
import { FlashSaleStore } from './flash-sale.store';
import { FlashSaleSubscriptions } from './flash-sale.subscriptions';
import { RedisDurabilityCheck } from './redis-durability.check';
import { SoldOutFlags } from './sold-out-flags';
import { UsersModule } from '../users/users.module';

/**
 * Flash sales: a Lua purchase path in Redis, a stream consumer that turns reservations into
 * ordinary orders, and the end-of-sale close + reconciliation. See docs/flash-sale.md.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([FlashSale, FlashSaleReservation]),
    registerQueues(QUEUES.flashSale),
    CatalogModule,
    InventoryModule,
    OrdersModule,
    UsersModule,
  ],
  controllers: [FlashSaleController],
  providers: [
    FlashSaleRepository,
    FlashSaleService,
    FlashSaleStore,
    FlashSaleDefinitions,
    FlashSalePersistence,
    FlashSaleRecovery,
    FlashSaleConsumer,
    FlashSaleSettlement,
    FlashSaleCloseProcessor,
    FlashSaleMetrics,
    SoldOutFlags,
    RedisDurabilityCheck,
    FlashSaleSubscriptions,
  ],
  exports: [FlashSaleService],
})
export class FlashSaleModule {}
