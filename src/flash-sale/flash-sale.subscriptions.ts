import { Injectable, OnModuleInit } from '@nestjs/common';
import { ORDER_EVENTS, OrderEventsBus } from '../orders';
import { FlashSaleSettlement } from './flash-sale-settlement.service';

/** Every order event the flash-sale module reacts to (the convention: `<module>.subscriptions.ts`). */
@Injectable()
export class FlashSaleSubscriptions implements OnModuleInit {
  constructor(
    private readonly bus: OrderEventsBus,
    private readonly settlement: FlashSaleSettlement,
  ) {}

  onModuleInit(): void {
    // An unpaid flash order that expires or is cancelled gives its unit back to the sale.
    for (const type of [ORDER_EVENTS.expired, ORDER_EVENTS.cancelled])
      this.bus.on(type, (e) => this.settlement.returnUnit(e));
  }
}
