import { SignedInController } from '../infra/http/routes';
import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuthUser, CurrentUser, Public, Roles } from '../common/auth';
import { InvalidSignatureError } from './webhook-signature';
import {
  ConfirmPaymentDto,
  CreatePaymentDto,
  CreateRefundDto,
  PaymentDto,
  RefundDto,
  WebhookAckDto,
} from './payments.dto';
import { PaymentRefunds } from './payment-refunds.service';
import { PaymentWebhooks } from './payment-webhooks.service';
import { PaymentsService } from './payments.service';
import type { PaymentView, RefundView } from './payments.types';

@SignedInController('payments', 'payments')
export class PaymentsController {
  constructor(
    private readonly payments: PaymentsService,
    private readonly paymentRefunds: PaymentRefunds,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Open a payment for one of your PENDING_PAYMENT orders (idempotent per order)' })
  @ApiResponse({ status: 201, type: PaymentDto })
  create(@CurrentUser() user: AuthUser, @Body() dto: CreatePaymentDto): Promise<PaymentView> {
    return this.payments.create(user, dto.orderId);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A payment (its owner or an admin)' })
  @ApiResponse({ status: 200, type: PaymentDto })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<PaymentView> {
    return this.payments.get(user, id);
  }

  @Post(':id/refunds')
  @Roles('admin')
  @ApiOperation({ summary: 'Admin: refund all or part of a captured payment' })
  @ApiResponse({ status: 201, type: RefundDto })
  refund(@Param('id') id: string, @Body() dto: CreateRefundDto): Promise<RefundView> {
    return this.paymentRefunds.refund(id, dto);
  }

  @Get(':id/refunds')
  @Roles('admin')
  @ApiOperation({ summary: 'Admin: the refunds of a payment' })
  @ApiResponse({ status: 200, type: [RefundDto] })
  async refunds(@Param('id') id: string): Promise<{ items: RefundView[] }> {
    return { items: await this.paymentRefunds.refundsOf(id) };
  }
}

@ApiTags('payments')
@Controller('payments/webhooks')
export class PaymentWebhooksController {
  constructor(private readonly webhooks: PaymentWebhooks) {}

  @Post('sandbox')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary:
      "The sandbox provider's callback (signed; see X-Signature). Replays answer 200 and change nothing",
  })
  @ApiHeader({ name: 'x-signature', description: 't=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">' })
  @ApiResponse({ status: 200, type: WebhookAckDto })
  async sandbox(@Req() req: RawBodyRequest<FastifyRequest>): Promise<WebhookAckDto> {
    // rawBody is the exact bytes received (NestFactory `rawBody: true`): the signature covers them.
    if (!req.rawBody) throw new InvalidSignatureError('The webhook must be a JSON body');
    const r = await this.webhooks.handle(req.rawBody, req.headers);
    return { received: true, eventId: r.eventId, outcome: r.outcome };
  }
}

/**
 * The sandbox's "customer pays with a test card" step. Registered only outside production
 * (SandboxPaymentsModule, imported by AppModule when NODE_ENV is not production): in production
 * the route does not exist — a customer must never be able to pay their own order without a PSP.
 */
@SignedInController('payments', 'payments')
export class SandboxPaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post(':id/confirm')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Sandbox only (absent in production): pay with a test card; the result arrives by webhook',
  })
  @ApiResponse({ status: 202, type: PaymentDto })
  confirm(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() dto: ConfirmPaymentDto,
  ): Promise<PaymentView> {
    return this.payments.confirmSandbox(user, id, dto.card);
  }
}
