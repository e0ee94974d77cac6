import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig } from '../infra/config/app-config';
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

/** The rows of a `|`-separated table, each cell trimmed (blank lines skipped). */
const rows = (table: string): string[][] =>
  table
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => line.split('|').map((cell) => cell.trim()));

// slug                 | category          | brand     | name                                 | description
const PRODUCT_ROWS = rows(`
  organic-cotton-tshirt | apparel-tshirts   | Northwind | Organic cotton T-shirt               | Soft organic cotton crew neck t-shirt, regular fit.
  merino-long-sleeve    | apparel-tshirts   | Northwind | Merino long sleeve                   | Lightweight merino wool long sleeve shirt for hiking.
  trail-running-shoes   | apparel-shoes     | Fjell     | Trail running shoes                  | Grippy trail running shoes with a rock plate.
  wireless-headphones   | electronics-audio | Sonora    | Wireless noise cancelling headphones | Over-ear wireless headphones with active noise cancelling and 30 h battery.
  portable-speaker      | electronics-audio | Sonora    | Portable bluetooth speaker           | Waterproof portable speaker with deep bass.
  usb-c-charger         | electronics       | Voltix    | USB-C fast charger 65W               | Compact gallium nitride charger for laptops and phones.
`);

// product               | sku            | price (EUR cents) | stock on hand
const VARIANT_ROWS = rows(`
  organic-cotton-tshirt  | TSHIRT-S       | 1999              | 100
  organic-cotton-tshirt  | TSHIRT-M       | 1999              | 100
  organic-cotton-tshirt  | TSHIRT-L       | 2199              | 50
  merino-long-sleeve     | MERINO-M       | 5900              | 30
  trail-running-shoes    | TRAIL-42       | 12900             | 20
  trail-running-shoes    | TRAIL-43       | 12900             | 20
  wireless-headphones    | HEADPHONES-BLK | 19900             | 40
  portable-speaker       | SPEAKER-BLU    | 7900              | 60
  usb-c-charger          | CHARGER-65W    | 3900              | 200
`);

const ATTRIBUTES: Record<string, Record<string, string>> = {
  'organic-cotton-tshirt': { material: 'cotton' },
};

const PRODUCTS: (Omit<CreateProductInput, 'categoryId'> & { slug: string; category: string })[] =
  PRODUCT_ROWS.map(([slug, category, brand, name, description]) => ({
    slug,
    name,
    description,
    brand,
    category,
    ...(ATTRIBUTES[slug] ? { attributes: ATTRIBUTES[slug] } : {}),
    variants: VARIANT_ROWS.filter(([product]) => product === slug).map(([, sku, price, stockOnHand]) => ({
      sku,
      price: Number(price),
      currency: 'EUR',
      stockOnHand: Number(stockOnHand),
    })),
  }));

/**
 * Idempotent demo data (`SEED_DEMO_DATA=true`): a few categories and products with stock, seeded
 * at start by the API processes (`APP_ROLE` api or all; a worker does not). Existing slugs/SKUs
 * are skipped; two instances seeding at once race on the unique keys and the loser skips
 * (DuplicateError), so running it anywhere, any number of times, is safe. A failure is logged and
 * the process starts without the demo data.
 */
@Injectable()
export class DemoCatalogSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('DemoCatalog');

  constructor(
    private readonly repo: CatalogRepository,
    private readonly catalog: CatalogService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.seedDemoData && this.config.role !== 'worker')
      await this.seed().catch((err: Error) =>
        this.logger.error(`demo catalog seeding failed: ${err.message}`),
      );
  }

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
