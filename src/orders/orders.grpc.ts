import { join } from 'node:path';

/** Where the OrderService proto lives (copied beside the compiled code by nest-cli assets). */
export const ORDERS_GRPC = {
  package: 'shop.orders.v1',
  service: 'shop.orders.v1.OrderService',
  includeDir: join(__dirname, 'proto'),
  protoPath: 'shop/orders/v1/orders.proto',
};
