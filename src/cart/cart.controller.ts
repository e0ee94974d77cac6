import { ApiErrorCodes } from '../infra/http/openapi-errors';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth';
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from '../common/order-size';
import { AddCartItemDto, CartDto, SetCartItemDto } from './cart.dto';
import { CartService } from './cart.service';
import type { CartView } from './cart.types';

@ApiTags('cart')
@ApiBearerAuth()
@Controller('cart')
export class CartController {
  constructor(private readonly cart: CartService) {}

  @Get()
  @ApiOperation({
    summary: 'My cart, priced from the catalog now',
    description:
      'A line whose variant was deleted or deactivated stays, with `available: false` and its `problem`.',
  })
  @ApiOkResponse({ type: CartDto })
  get(@CurrentUser() user: AuthUser): Promise<CartView> {
    return this.cart.get(user.id);
  }

  @Post('items')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Add to my cart',
    description: `At most ${MAX_ORDER_LINES} SKUs (409 CART_FULL) and of each what one customer may hold unpaid (ORDER_MAX_UNPAID_UNITS_PER_SKU, at most ${MAX_LINE_QUANTITY}; 409 CART_LINE_LIMIT); 404 SKU_NOT_FOUND, 409 SKU_INACTIVE.`,
  })
  @ApiErrorCodes({ 404: ['SKU_NOT_FOUND'], 409: ['SKU_INACTIVE', 'CART_FULL', 'CART_LINE_LIMIT'] })
  @ApiOkResponse({ type: CartDto })
  add(@CurrentUser() user: AuthUser, @Body() body: AddCartItemDto): Promise<CartView> {
    return this.cart.add(user.id, body.sku, body.quantity);
  }

  @Put('items/:sku')
  @ApiOperation({ summary: 'Set the quantity of a line (0 removes it)' })
  @ApiErrorCodes({
    404: ['SKU_NOT_FOUND', 'CART_ITEM_NOT_FOUND'],
    409: ['SKU_INACTIVE', 'CART_FULL', 'CART_LINE_LIMIT'],
  })
  @ApiOkResponse({ type: CartDto })
  set(
    @CurrentUser() user: AuthUser,
    @Param('sku') sku: string,
    @Body() body: SetCartItemDto,
  ): Promise<CartView> {
    return this.cart.set(user.id, sku, body.quantity);
  }

  @Delete('items/:sku')
  @ApiOperation({ summary: 'Remove a line' })
  @ApiErrorCodes({ 404: ['CART_ITEM_NOT_FOUND'] })
  @ApiOkResponse({ type: CartDto })
  remove(@CurrentUser() user: AuthUser, @Param('sku') sku: string): Promise<CartView> {
    return this.cart.remove(user.id, sku);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Empty my cart' })
  @ApiNoContentResponse()
  async clear(@CurrentUser() user: AuthUser): Promise<void> {
    await this.cart.clear(user.id);
  }
}
