import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { GrpcCall, assertCallAlive, grpcCaller, grpcId, grpcTimestamp } from '../infra/grpc/grpc-adapter';
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

/**
 * shop.payments.v1.PaymentService: a thin adapter over PaymentsService (the REST controller's
 * service), through the gRPC adapter helper (caller, ids, deadline); GrpcExceptionFilter maps errors.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class PaymentsGrpcController {
  constructor(private readonly payments: PaymentsService) {}

  @GrpcMethod('PaymentService', 'CreatePayment')
  async createPayment(
    req: { order_id?: string },
    metadata: Metadata,
    call: GrpcCall,
  ): Promise<PaymentMessage> {
    const user = grpcCaller(metadata);
    const orderId = grpcId('order_id', req.order_id, 'an order id');
    assertCallAlive(call);
    return toMessage(await this.payments.create(user, orderId));
  }

  @GrpcMethod('PaymentService', 'GetPayment')
  async getPayment(req: { id?: string }, metadata: Metadata, call: GrpcCall): Promise<PaymentMessage> {
    const user = grpcCaller(metadata);
    const id = grpcId('id', req.id, 'a payment id');
    assertCallAlive(call);
    return toMessage(await this.payments.get(user, id));
  }
}
