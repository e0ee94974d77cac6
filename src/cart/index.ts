/** The cart module's public API. */
export { CartModule } from './cart.module';
export { CartService } from './cart.service';
export type { CartView, CartLineView, CartLineProblem } from './cart.types';
