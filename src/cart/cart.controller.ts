import { SignedInController } from '../infra/http/routes';
import { ApiErrorCodes } from '../infra/http/openapi-errors';
import { Body, Delete, Get, HttpCode, OnModuleInit, Param, Post, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth';
import { MAX_LINE_QUANTITY, MAX_ORDER_LINES, SKU_PATTERN } from '../common/order-size';
import { EdgeAnswer, EdgeRoutes } from '../infra/http/edge-routes';
import { createValidationPipe } from '../infra/http/validation.pipe';
import { AccessTokens } from '../users';
import { AddCartItemDto, CartDto, SetCartItemDto } from './cart.dto';
import { CartService } from './cart.service';
import type { CartView } from './cart.types';

@SignedInController('cart', 'cart')
export class CartController implements OnModuleInit {
  /** The global pipe's rules (ValidationPipe), for bodies the edge reads. */
  private readonly pipe = createValidationPipe();

  constructor(
    private readonly cart: CartService,
    private readonly edge: EdgeRoutes,
    private readonly tokens: AccessTokens,
  ) {}

  /**
   * Reading the cart and adding to it at the HTTP edge (EdgeRoutes): a shopper's page loads call
   * them on every visit, and each is one Redis round trip plus prices from the L1 catalog cache,
   * so the pipeline's own cost would be most of theirs. A caller without a valid bearer token is
   * left to the pipeline (the guard's 401); otherwise the edge calls the same service methods as
   * `get` and `add` below. The added item is checked with the global ValidationPipe's rules: a
   * body that is exactly `{sku, quantity}` with valid values passes a direct check, anything else
   * goes through that pipe itself, so a refusal is the pipeline's VALIDATION_FAILED word for word.
   */
  onModuleInit(): void {
    this.edge.add('GET', 'cart', (_param, req, ctx) => {
      const user = this.tokens.fromAuthorization(req.headers.authorization);
      if (!user) return undefined;
      ctx.userId = user.id;
      ctx.role = user.role;
      return this.cart.get(user.id).then(ok);
    });
    this.edge.addWithBody('POST', 'cart/items', (_param, req, ctx) => {
      const user = this.tokens.fromAuthorization(req.headers.authorization);
      if (!user) return undefined;
      ctx.userId = user.id;
      ctx.role = user.role;
      // `.then` rather than `async`: one promise fewer per request.
      return (body) =>
        isPlainItem(body)
          ? this.cart.add(user.id, body.sku, body.quantity).then(ok)
          : Promise.resolve(this.pipe.transform(body, { type: 'body', metatype: AddCartItemDto }))
              .then((item: AddCartItemDto) => this.cart.add(user.id, item.sku, item.quantity))
              .then(ok);
    });
  }

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

const ok = (view: CartView): EdgeAnswer => ({ status: 200, body: JSON.stringify(view) });

/** `{sku, quantity}` and nothing else, both valid as AddCartItemDto says (what the pipe would pass unchanged). */
function isPlainItem(body: unknown): body is AddCartItemDto {
  if (typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype)
    return false;
  const keys = Object.keys(body);
  if (keys.length !== 2) return false;
  const { sku, quantity } = body as Record<string, unknown>;
  return (
    typeof sku === 'string' &&
    SKU_PATTERN.test(sku) &&
    typeof quantity === 'number' &&
    Number.isInteger(quantity) &&
    quantity >= 1 &&
    quantity <= MAX_LINE_QUANTITY
  );
}
