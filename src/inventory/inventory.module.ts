import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { NotificationsModule } from '../notifications/notifications.module';
import { InventoryItem } from './inventory-item.entity';
import { InventoryMovement } from './inventory-movement.entity';
import { InventoryController } from './inventory.controller';
import { InventoryRepository } from './inventory.repository';
import { InventoryService } from './inventory.service';
import { LowStockAlerts } from './low-stock-alerts';

/** Stock per SKU, its ledger and low-stock alerts. Other modules use InventoryService only. */
@Module({
  imports: [TypeOrmModule.forFeature([InventoryItem, InventoryMovement]), NotificationsModule],
  controllers: [InventoryController],
  providers: [InventoryRepository, InventoryService, LowStockAlerts],
  exports: [InventoryService],
})
export class InventoryModule {}
