import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import type { AuthUser } from '../common/auth';
import { GrpcCall, grpcId, grpcTimestamp, grpcUnary } from '../infra/grpc/grpc-adapter';
import { GrpcExceptionFilter } from '../infra/grpc/grpc-exception.filter';
import { PaymentsService } from './payments.service';
import type { PaymentView } from './payments.types';

/** Wire shape of shop.payments.v1.Payment (snake_case as in the .proto; enums by name). */
interface Money {
  currency_code: string;
  amount_minor: number;
}
export interface PaymentMessage {
  id: string;
  order_id: string;
  user_id: string;
  status: string;
  amount: Money;
  refunded: Money;
  provider: string;
  created_at: { seconds: number; nanos: number };
  updated_at: { seconds: number; nanos: number };
}

export function toMessage(p: PaymentView): PaymentMessage {
  return {
    id: p.id,
    order_id: p.orderId,
    user_id: p.userId,
    status: `PAYMENT_STATUS_${p.status}`,
    amount: { currency_code: p.currency, amount_minor: p.amount },
    refunded: { currency_code: p.currency, amount_minor: p.refundedAmount },
    provider: p.provider,
    created_at: grpcTimestamp(p.createdAt),
    updated_at: grpcTimestamp(p.updatedAt),
  };
}

const orderIdOf = (req: { order_id?: string }) => grpcId('order_id', req.order_id, 'an order id');
const paymentIdOf = (req: { id?: string }) => grpcId('id', req.id, 'a payment id');

/**
 * shop.payments.v1.PaymentService: a thin adapter over PaymentsService (the REST controller's
 * service), through the gRPC adapter helper (caller, ids, deadline); GrpcExceptionFilter maps errors.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class PaymentsGrpcController {
  constructor(private readonly payments: PaymentsService) {}

  @GrpcMethod('PaymentService', 'CreatePayment')
  createPayment(req: { order_id?: string }, metadata: Metadata, call: GrpcCall): Promise<PaymentMessage> {
    return this.unary(metadata, call, req, orderIdOf, (id, u) => this.payments.create(u, id));
  }

  @GrpcMethod('PaymentService', 'GetPayment')
  getPayment(req: { id?: string }, metadata: Metadata, call: GrpcCall): Promise<PaymentMessage> {
    return this.unary(metadata, call, req, paymentIdOf, (id, u) => this.payments.get(u, id));
  }

  /** A unary call on one id of `req`: the payment as the service answers it, on the wire. */
  private unary<Q>(
    metadata: Metadata,
    call: GrpcCall,
    req: Q,
    idOf: (req: Q) => string,
    act: (id: string, user: AuthUser) => Promise<PaymentView>,
  ): Promise<PaymentMessage> {
    return grpcUnary(
      metadata,
      call,
      () => idOf(req),
      async (id, user) => toMessage(await act(id, user)),
    );
  }
}
