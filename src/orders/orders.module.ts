import { OrderHoldsRepository } from './order-holds.repository';
import { OutboxRepository } from './outbox.repository';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AddressesModule } from '../addresses/addresses.module';
import { CartModule } from '../cart/cart.module';
import { CatalogModule } from '../catalog/catalog.module';
import { CheckoutModule } from '../checkout/checkout.module';
import { CouponsModule } from '../coupons/coupons.module';
import { InventoryModule } from '../inventory/inventory.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { UsersModule } from '../users/users.module';
import { IdempotencyStore } from './idempotency.store';
import { IdempotencyKeyEntity, OrderEntity, OrderItemEntity, OutboxEntity } from './order.entity';
import { OrderEventsBus } from './order-events';
import { OrderExpiryProcessor } from './order-expiry.processor';
import { OrderHistoryCache } from './order-history.cache';
import { OrderCapsPolicy, OrderLimits } from './order-limits';
import { OrderNotifications } from './order-notifications';
import { OrderWatchers } from './order-watchers.service';
import { OrdersSubscriptions } from './orders.subscriptions';
import { AdminOrdersController, OrdersController } from './orders.controller';
import { OrdersGrpcController } from './orders.grpc.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';
import { OrderPlacement } from './order-placement.service';
import { OutboxHousekeeping } from './outbox.housekeeping';
import { OutboxProcessor } from './outbox.processor';
import { OutboxRelay } from './outbox.relay';
import { OutboxWriter } from './outbox.writer';

/** Order lifecycle, idempotency, expiry, the outbox and its relay, REST and gRPC adapters. */
@Module({
  imports: [
    TypeOrmModule.forFeature([OrderEntity, OrderItemEntity, IdempotencyKeyEntity, OutboxEntity]),
    registerQueues(QUEUES.orders, QUEUES.outbox),
    InventoryModule,
    CatalogModule,
    CheckoutModule,
    CouponsModule,
    CartModule,
    AddressesModule,
    UsersModule,
    NotificationsModule,
  ],
  controllers: [OrdersController, AdminOrdersController, OrdersGrpcController],
  providers: [
    OrdersService,
    OrderPlacement,
    OrdersRepository,
    IdempotencyStore,
    OutboxRepository,
    OutboxWriter,
    OutboxRelay,
    OutboxProcessor,
    OutboxHousekeeping,
    OrderEventsBus,
    OrderExpiryProcessor,
    OrderWatchers,
    OrderNotifications,
    OrdersSubscriptions,
    OrderHoldsRepository,
    OrderLimits,
    OrderCapsPolicy,
    OrderHistoryCache,
  ],
  exports: [OrdersService, OrderEventsBus],
})
export class OrdersModule {}
