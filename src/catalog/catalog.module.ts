import { Module } from '@nestjs/common';
import { CacheModule } from '../infra/cache/cache.module';
import { InventoryModule } from '../inventory/inventory.module';
import { CatalogController } from './catalog.controller';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';
import { DemoCatalogSeeder } from './demo-catalog';
import { CatalogSearch } from './search/catalog-search.service';

/** Categories, products, variants, search and the product cache. Other modules use CatalogService. */
@Module({
  imports: [CacheModule, InventoryModule],
  controllers: [CatalogController],
  providers: [CatalogRepository, CatalogService, CatalogSearch, DemoCatalogSeeder],
  exports: [CatalogService, DemoCatalogSeeder],
})
export class CatalogModule {}
