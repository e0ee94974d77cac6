import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DbRouter } from '../infra/database/db-router.service';
import { FlashSale } from './flash-sale.entity';

/**
 * Sale definitions by id, cached in process: what a sale sells, at what price and when never
 * changes after creation, so the consumer and GET /flash-sales/:id do not hit MySQL per call.
 * (Status changes are read fresh where they matter.)
 */
@Injectable()
export class FlashSaleDefinitions {
  private readonly cache = new LRUCache<string, FlashSale>({ max: 1000 });

  constructor(private readonly db: DbRouter) {}

  remember(sale: FlashSale): void {
    this.cache.set(sale.id, sale);
  }

  async find(id: string): Promise<FlashSale | undefined> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    // A replica may not have a sale created a few ms ago: fall back to the primary on a miss.
    const sale =
      (await this.db.read((em) => em.getRepository(FlashSale).findOneBy({ id }))) ??
      (await this.db.primaryReader().getRepository(FlashSale).findOneBy({ id }));
    if (sale) this.cache.set(id, sale);
    return sale ?? undefined;
  }

  /** The sale with its current status, from the primary. */
  async fresh(id: string): Promise<FlashSale | undefined> {
    return (await this.db.primaryReader().getRepository(FlashSale).findOneBy({ id })) ?? undefined;
  }
}
