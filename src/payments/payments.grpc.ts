import { join } from 'node:path';

/** Where the PaymentService proto lives (copied beside the compiled code by nest-cli assets). */
export const PAYMENTS_GRPC = {
  package: 'shop.payments.v1',
  service: 'shop.payments.v1.PaymentService',
  includeDir: join(__dirname, 'proto'),
  protoPath: 'shop/payments/v1/payments.proto',
};
