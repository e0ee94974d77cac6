export { CatalogModule } from './catalog.module';
export { CatalogService } from './catalog.service';
export { DemoCatalogSeeder } from './demo-catalog';
export { ProductNotFoundError, CategoryNotFoundError, DuplicateError } from './catalog.errors';
export type {
  VariantPrice,
  ProductDetail,
  CategoryNode,
  CreateProductInput,
  UpdateProductInput,
  ProductStatus,
} from './catalog.types';
