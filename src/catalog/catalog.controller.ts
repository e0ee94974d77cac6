import { AdminOnly, CreateRoute, DeleteRoute, UpdateRoute } from '../infra/http/routes';
import { Body, Controller, Get, Header, OnModuleInit, Param, Query, UseInterceptors } from '@nestjs/common';
import { CacheTTL } from '@nestjs/cache-manager';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth';
import { ValidationFailedError } from '../common/errors/domain-error';
import { HttpCacheInterceptor } from '../infra/cache/http-cache.interceptor';
import { EdgeRoutes } from '../infra/http/edge-routes';
import { JSON_TYPE } from '../infra/http/response-headers';
import { ProductNotFoundError } from './catalog.errors';
import {
  CreateCategoryDto,
  CreateProductDto,
  ListProductsQuery,
  ProductDetailDto,
  ProductPageDto,
  UpdateProductDto,
} from './catalog.dto';
import { CatalogService } from './catalog.service';
import type { CategoryNode, ProductDetail } from './catalog.types';

/**
 * Public reads answer the cache's ready JSON strings as they are (no re-serialisation on the hot
 * path). A product page or a first listing page already in this instance's L1 cache is answered
 * at the HTTP edge, in front of the pipeline (EdgeRoutes); on a miss the edge declines and `get`
 * or `list` below serves it.
 */
@ApiTags('catalog')
@Controller()
export class CatalogController implements OnModuleInit {
  constructor(
    private readonly catalog: CatalogService,
    private readonly edge: EdgeRoutes,
  ) {}

  onModuleInit(): void {
    this.edge.add('GET', 'products/:id', (id) => {
      const json = this.catalog.cachedProductJson(id);
      return json === undefined ? undefined : { status: 200, body: json };
    });
    // A first listing page in L1, for a query string `list` would take as it is (plainListingParams).
    this.edge.add(
      'GET',
      'products',
      (_param, _req, _ctx, query) => {
        const json = this.catalog.cachedListJson(query);
        return json === undefined ? undefined : { status: 200, body: json };
      },
      { query: true },
    );
  }

  @Public()
  @Get('products')
  @Header('content-type', JSON_TYPE)
  @ApiOkResponse({ type: ProductPageDto })
  list(@Query() query: ListProductsQuery): Promise<string> {
    if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice)
      throw new ValidationFailedError('minPrice: must not exceed maxPrice');
    return this.catalog.listJson(query);
  }

  @Public()
  @Get('products/:id')
  @Header('content-type', JSON_TYPE)
  @ApiOkResponse({ type: ProductDetailDto })
  async get(@Param('id') id: string): Promise<string> {
    const json = await this.catalog.productJson(id);
    if (json === null) throw new ProductNotFoundError();
    return json;
  }

  /**
   * Cached with the standard Nest API (CacheInterceptor over the shared Redis, keyed by URL since
   * the route is public); createCategory drops it on every instance (decision 0015).
   */
  @Public()
  @Get('categories')
  @UseInterceptors(HttpCacheInterceptor)
  @CacheTTL(60_000)
  @Header('content-type', JSON_TYPE)
  @ApiOkResponse({ description: 'The category tree: [{id, parentId, name, slug, children: [...]}]' })
  categories(): Promise<string> {
    return this.catalog.categoriesJson();
  }

  @AdminOnly()
  @CreateRoute({ description: 'The created category' }, 'categories')
  createCategory(@Body() body: CreateCategoryDto): Promise<CategoryNode> {
    return this.catalog.createCategory(body);
  }

  @AdminOnly()
  @CreateRoute({ type: ProductDetailDto }, 'products')
  create(@Body() body: CreateProductDto): Promise<ProductDetail> {
    return this.catalog.createProduct(body);
  }

  @AdminOnly()
  @UpdateRoute({ type: ProductDetailDto }, 'products/:id')
  update(@Param('id') id: string, @Body() body: UpdateProductDto): Promise<ProductDetail> {
    return this.catalog.updateProduct(id, body);
  }

  @AdminOnly()
  @DeleteRoute({ description: 'Archived: gone from listings and detail' }, 'products/:id')
  async archive(@Param('id') id: string): Promise<void> {
    await this.catalog.archiveProduct(id);
  }
}
