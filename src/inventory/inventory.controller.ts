import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../common/auth';
import { NotFoundError, ValidationFailedError } from '../common/errors/domain-error';
import { AdjustStockDto, StockViewDto } from './inventory.dto';
import { InventoryService } from './inventory.service';
import type { StockView } from './inventory.types';

@ApiTags('inventory')
@ApiBearerAuth()
@Roles('admin')
@Controller('inventory')
export class InventoryController {
  constructor(private readonly inventory: InventoryService) {}

  @Get(':sku')
  @ApiOkResponse({ type: StockViewDto })
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
