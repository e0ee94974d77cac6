import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from './infra/config/app-config';
import { AppConfigModule } from './infra/config/config.module';
import { InfraModule } from './infra/infra.module';
import { HealthModule } from './health/health.module';
import { InventoryModule } from './inventory/inventory.module';
import { CatalogModule } from './catalog/catalog.module';
import { OrdersModule } from './orders/orders.module';
import { FlashSaleModule } from './flash-sale/flash-sale.module';
import { PaymentsModule } from './payments/payments.module';
import { SandboxPaymentsModule } from './payments/sandbox-payments.module';
import { UsersModule } from './users/users.module';
import { AuditModule } from './audit/audit.module';
import { NotificationsModule } from './notifications/notifications.module';

/**
 * The modular monolith. Domain modules are imported here and talk to each other only
 * through what they export. Built per config so tests can boot several instances in one process.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        InfraModule,
        HealthModule,
        UsersModule,
        AuditModule,
        NotificationsModule,
        InventoryModule,
        CatalogModule,
        OrdersModule,
        PaymentsModule,
        // The sandbox's pay-with-a-test-card route: never in production (fail closed).
        ...(config.env === 'production' ? [] : [SandboxPaymentsModule]),
        FlashSaleModule,
      ],
    };
  }
}
