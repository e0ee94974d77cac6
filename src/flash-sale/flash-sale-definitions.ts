import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { FlashSale } from './flash-sale.entity';
import { FlashSaleRepository } from './flash-sale.repository';

/**
 * Sale definitions by id, cached in process: what a sale sells, at what price and when never
 * changes after creation, so the consumer and GET /flash-sales/:id do not hit MySQL per call.
 * (Status changes are read fresh where they matter.)
 */
@Injectable()
export class FlashSaleDefinitions {
  private readonly cache = new LRUCache<string, FlashSale>({ max: 1000 });

  constructor(private readonly repo: FlashSaleRepository) {}

  remember(sale: FlashSale): void {
    this.cache.set(sale.id, sale);
  }

  async find(id: string): Promise<FlashSale | undefined> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const sale = await this.repo.findSale(id);
    if (sale) this.cache.set(id, sale);
    return sale;
  }

  /** The sale with its current status, from the primary. */
  async fresh(id: string): Promise<FlashSale | undefined> {
    return this.repo.freshSale(id);
  }
}
