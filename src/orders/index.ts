/** The orders module's public API (payments and flash sales code against exactly this). */
export { OrdersModule } from './orders.module';
export { OrdersService } from './orders.service';
export type { FlashSaleOrderRow, ListQuery, OrderPage, OrderView, OrderItemView } from './orders.types';
export type { OrderStatus } from './order-state';
export { ORDER_EVENTS, OrderEventsBus } from './order-events';
export type { OrderEvent, OrderEventHandler, OrderEventType } from './order-events';
export { ORDERS_GRPC } from './orders.grpc';
