import { Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { CacheModule } from '../infra/cache/cache.module';
import { AppConfig } from '../infra/config/app-config';
import { InventoryModule } from '../inventory/inventory.module';
import { CatalogController } from './catalog.controller';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';
import { DemoCatalogSeeder } from './demo-catalog';

/** Categories, products, variants, search and the product cache. Other modules use CatalogService. */
@Module({
  imports: [CacheModule, InventoryModule],
  controllers: [CatalogController],
  providers: [CatalogRepository, CatalogService, DemoCatalogSeeder],
  exports: [CatalogService, DemoCatalogSeeder],
})
export class CatalogModule implements OnApplicationBootstrap {
  private readonly logger = new Logger('CatalogModule');

  constructor(
    private readonly config: AppConfig,
    private readonly seeder: DemoCatalogSeeder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.seedDemoData && this.config.role !== 'worker')
      await this.seeder
        .seed()
        .catch((err: Error) => this.logger.error(`demo catalog seeding failed: ${err.message}`));
  }
}
