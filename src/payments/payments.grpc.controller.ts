import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Metadata } from '@grpc/grpc-js';
import { AUTH_USER_KEY, AuthUser } from '../common/auth';
import { UnauthenticatedError, ValidationFailedError } from '../common/errors/domain-error';
import { isUuid } from '../common/uuid';
import { GrpcExceptionFilter } from '../infra/grpc/grpc-exception.filter';
import { PaymentView, PaymentsService } from './payments.service';

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

const timestamp = (iso: string) => {
  const ms = Date.parse(iso);
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
};

export function toMessage(p: PaymentView): PaymentMessage {
  return {
    id: p.id,
    order_id: p.orderId,
    user_id: p.userId,
    status: `PAYMENT_STATUS_${p.status}`,
    amount: { currency_code: p.currency, amount_minor: p.amount },
    refunded: { currency_code: p.currency, amount_minor: p.refundedAmount },
    provider: p.provider,
    created_at: timestamp(p.createdAt),
    updated_at: timestamp(p.updatedAt),
  };
}

function caller(metadata: Metadata): AuthUser {
  const user = (metadata as unknown as Record<string, AuthUser | undefined>)[AUTH_USER_KEY];
  if (!user) throw new UnauthenticatedError();
  return user;
}

function uuid(field: string, v: unknown): string {
  if (typeof v !== 'string' || !isUuid(v)) throw new ValidationFailedError(`${field}: must be a UUID`);
  return v.toLowerCase();
}

/**
 * shop.payments.v1.PaymentService: a thin adapter over PaymentsService (the REST controller's
 * service). The global guard authenticates (metadata `authorization`); GrpcExceptionFilter maps errors.
 */
@Controller()
@UseFilters(GrpcExceptionFilter)
export class PaymentsGrpcController {
  constructor(private readonly payments: PaymentsService) {}

  @GrpcMethod('PaymentService', 'CreatePayment')
  async createPayment(req: { order_id?: string }, metadata: Metadata): Promise<PaymentMessage> {
    return toMessage(await this.payments.create(caller(metadata), uuid('order_id', req.order_id)));
  }

  @GrpcMethod('PaymentService', 'GetPayment')
  async getPayment(req: { id?: string }, metadata: Metadata): Promise<PaymentMessage> {
    return toMessage(await this.payments.get(caller(metadata), uuid('id', req.id)));
  }
}
