import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { NotificationsModule } from '../notifications/notifications.module';
import { OrdersModule } from '../orders';
import { UsersModule } from '../users/users.module';
import { PaymentEventEntity } from './payment-event.entity';
import { PaymentProvider } from './payment-provider';
import { PaymentEntity } from './payment.entity';
import { PaymentWebhooksController, PaymentsController } from './payments.controller';
import { PaymentsGrpcController } from './payments.grpc.controller';
import { PaymentReconciliation } from './payment-reconciliation.service';
import { PaymentRefunds } from './payment-refunds.service';
import { PaymentWebhooks } from './payment-webhooks.service';
import { PaymentsProcessor } from './payments.processor';
import { PaymentsRepository } from './payments.repository';
import { PaymentsService } from './payments.service';
import { PaymentsSubscriptions } from './payments.subscriptions';
import { ReceiptMailer } from './receipt-mailer';
import { RefundEntity } from './refund.entity';
import { SandboxLedger } from './sandbox/sandbox-ledger';
import { SandboxProvider } from './sandbox/sandbox.provider';
import { SandboxPsp } from './sandbox/sandbox-psp';

/**
 * Payments: the provider port (bound to the sandbox here; a Stripe adapter would be bound the
 * same way), signed webhooks, refunds and reconciliation, split along payment-state.ts; every
 * statement is PaymentsRepository's. REST and gRPC adapters call the services.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([PaymentEntity, PaymentEventEntity, RefundEntity]),
    registerQueues(QUEUES.payments),
    OrdersModule,
    UsersModule,
    NotificationsModule,
  ],
  controllers: [PaymentsController, PaymentWebhooksController, PaymentsGrpcController],
  providers: [
    PaymentsRepository,
    PaymentsService,
    PaymentWebhooks,
    PaymentRefunds,
    PaymentReconciliation,
    PaymentsProcessor,
    ReceiptMailer,
    PaymentsSubscriptions,
    SandboxPsp,
    SandboxLedger,
    { provide: PaymentProvider, useClass: SandboxProvider },
  ],
  exports: [PaymentsService],
})
export class PaymentsModule {}
