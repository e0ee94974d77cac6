import { Module } from '@nestjs/common';
import { PaymentsModule } from './payments.module';
import { SandboxPaymentsController } from './payments.controller';

/**
 * The sandbox-only routes (POST /payments/:id/confirm). AppModule imports this module only when
 * NODE_ENV is development or test, so a production process has no such route at all.
 */
@Module({
  imports: [PaymentsModule],
  controllers: [SandboxPaymentsController],
})
export class SandboxPaymentsModule {}
