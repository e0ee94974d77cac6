import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { OptionalInt } from '../infra/http/dto-properties';

export class CreatePaymentDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  orderId!: string;
}

export class ConfirmPaymentDto {
  @ApiProperty({
    example: '4242424242424242',
    description: 'Sandbox test card: 4242424242424242 succeeds, 4000000000000002 is declined',
  })
  @IsString()
  @Matches(/^[0-9 -]{12,23}$/)
  card!: string;
}

export class CreateRefundDto {
  @OptionalInt(1, Number.MAX_SAFE_INTEGER, {
    description: 'Minor units; omitted = everything not yet refunded',
    example: 500,
  })
  amount?: number;

  @ApiPropertyOptional({ description: 'Put the items back in stock when the refund completes the order' })
  @IsOptional()
  @IsBoolean()
  restock?: boolean;
}

const STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'REFUNDED', 'PARTIALLY_REFUNDED'];

export class PaymentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) orderId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ description: 'Minor units', example: 2599 }) amount!: number;
  @ApiProperty({ description: 'Minor units refunded or being refunded', example: 0 }) refundedAmount!: number;
  @ApiProperty({ example: 'EUR' }) currency!: string;
  @ApiProperty({ example: 'sandbox' }) provider!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RefundSplitDto {
  @ApiProperty({ example: 791, description: 'goods, after discount, net of tax when prices include it' })
  goods!: number;
  @ApiProperty({ example: 56, description: 'shipping, net of tax when prices include it' }) shipping!: number;
  @ApiProperty({ example: 153 }) tax!: number;
  @ApiProperty({
    example: 104,
    description: "the order's discount on the refunded goods (not money: already in goods)",
  })
  discount!: number;
}

export class RefundDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) paymentId!: string;
  @ApiProperty() amount!: number;
  @ApiProperty() currency!: string;
  @ApiProperty({ enum: ['PENDING', 'SUCCEEDED', 'FAILED'] }) status!: string;
  @ApiProperty({ enum: ['requested', 'order_not_payable'] }) reason!: string;
  @ApiProperty() restock!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({
    type: RefundSplitDto,
    description: 'How the amount divides into goods, shipping and tax (docs/checkout.md, "Refunds")',
  })
  split?: RefundSplitDto;
}

export class WebhookAckDto {
  @ApiProperty() received!: boolean;
  @ApiProperty({ example: 'evt_123' }) eventId!: string;
  @ApiProperty({
    enum: ['applied', 'duplicate', 'ignored_state', 'mismatch', 'unknown_payment', 'auto_refund'],
  })
  outcome!: string;
}
