import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';
import type { CreateProductInput } from './catalog.types';

const CATEGORIES: { slug: string; name: string; parent?: string }[] = [
  { slug: 'apparel', name: 'Apparel' },
  { slug: 'apparel-tshirts', name: 'T-shirts', parent: 'apparel' },
  { slug: 'apparel-shoes', name: 'Shoes', parent: 'apparel' },
  { slug: 'electronics', name: 'Electronics' },
  { slug: 'electronics-audio', name: 'Audio', parent: 'electronics' },
];

const PRODUCTS: (Omit<CreateProductInput, 'categoryId'> & { slug: string; category: string })[] = [
  {
    slug: 'organic-cotton-tshirt',
    name: 'Organic cotton T-shirt',
    description: 'Soft organic cotton crew neck t-shirt, regular fit.',
    brand: 'Northwind',
    category: 'apparel-tshirts',
    attributes: { material: 'cotton' },
    variants: [
      { sku: 'TSHIRT-S', price: 1999, currency: 'EUR', stockOnHand: 100 },
      { sku: 'TSHIRT-M', price: 1999, currency: 'EUR', stockOnHand: 100 },
      { sku: 'TSHIRT-L', price: 2199, currency: 'EUR', stockOnHand: 50 },
    ],
  },
  {
    slug: 'merino-long-sleeve',
    name: 'Merino long sleeve',
    description: 'Lightweight merino wool long sleeve shirt for hiking.',
    brand: 'Northwind',
    category: 'apparel-tshirts',
    variants: [{ sku: 'MERINO-M', price: 5900, currency: 'EUR', stockOnHand: 30 }],
  },
  {
    slug: 'trail-running-shoes',
    name: 'Trail running shoes',
    description: 'Grippy trail running shoes with a rock plate.',
    brand: 'Fjell',
    category: 'apparel-shoes',
    variants: [
      { sku: 'TRAIL-42', price: 12900, currency: 'EUR', stockOnHand: 20 },
      { sku: 'TRAIL-43', price: 12900, currency: 'EUR', stockOnHand: 20 },
    ],
  },
  {
    slug: 'wireless-headphones',
    name: 'Wireless noise cancelling headphones',
    description: 'Over-ear wireless headphones with active noise cancelling and 30 h battery.',
    brand: 'Sonora',
    category: 'electronics-audio',
    variants: [{ sku: 'HEADPHONES-BLK', price: 19900, currency: 'EUR', stockOnHand: 40 }],
  },
  {
    slug: 'portable-speaker',
    name: 'Portable bluetooth speaker',
    description: 'Waterproof portable speaker with deep bass.',
    brand: 'Sonora',
    category: 'electronics-audio',
    variants: [{ sku: 'SPEAKER-BLU', price: 7900, currency: 'EUR', stockOnHand: 60 }],
  },
  {
    slug: 'usb-c-charger',
    name: 'USB-C fast charger 65W',
    description: 'Compact gallium nitride charger for laptops and phones.',
    brand: 'Voltix',
    category: 'electronics',
    variants: [{ sku: 'CHARGER-65W', price: 3900, currency: 'EUR', stockOnHand: 200 }],
  },
];

/**
 * Idempotent demo data (`SEED_DEMO_DATA=true`): a few categories and products with stock.
 * Existing slugs/SKUs are skipped; two instances seeding at once race on the unique keys and the
 * loser skips (DuplicateError), so running it anywhere, any number of times, is safe.
 */
@Injectable()
export class DemoCatalogSeeder {
  private readonly logger = new Logger('DemoCatalog');

  constructor(
    private readonly repo: CatalogRepository,
    private readonly catalog: CatalogService,
  ) {}

  async seed(): Promise<{ categories: number; products: number }> {
    const created = { categories: 0, products: 0 };
    const idOf = (slug: string): Promise<string | undefined> => this.repo.categoryIdBySlug(slug);
    for (const c of CATEGORIES) {
      if (await idOf(c.slug)) continue;
      await this.skipDuplicate(async () => {
        await this.catalog.createCategory({
          name: c.name,
          slug: c.slug,
          parentId: c.parent && (await idOf(c.parent)),
        });
        created.categories++;
      });
    }
    for (const { category, ...p } of PRODUCTS) {
      if (await this.repo.productSlugExists(p.slug)) continue;
      await this.skipDuplicate(async () => {
        await this.catalog.createProduct({ ...p, categoryId: await idOf(category) });
        created.products++;
      });
    }
    if (created.categories || created.products)
      this.logger.log(`demo catalog: ${created.categories} categories, ${created.products} products created`);
    return created;
  }

  private async skipDuplicate(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof DomainError && /_TAKEN$/.test(err.code))) throw err;
    }
  }
}
