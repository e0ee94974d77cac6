import { AdminController, ReadRoute } from '../infra/http/routes';
import { Body, Param, Put } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { NotFoundError, ValidationFailedError } from '../common/errors/domain-error';
import { AdjustStockDto, StockViewDto } from './inventory.dto';
import { InventoryService } from './inventory.service';
import type { StockView } from './inventory.types';

@AdminController('inventory', 'inventory')
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @ReadRoute({ type: StockViewDto }, ':sku')
  async get(@Param('sku') sku: string): Promise<StockView> {
    const view = await this.inventory.get(sku);
    if (!view) throw new NotFoundError(`Inventory for SKU ${sku}`);
    return view;
  }

  @Put(':sku')
  @ApiOkResponse({ type: StockViewDto })
  adjust(@Param('sku') sku: string, @Body() body: AdjustStockDto): Promise<StockView> {
    if (body.onHand === undefined && body.lowStockThreshold === undefined)
      throw new ValidationFailedError('Give onHand and/or lowStockThreshold');
    return this.inventory.adjust(sku, body);
  }
}
