import { ApiProperty } from '@nestjs/swagger';
import { IsDateString, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min } from 'class-validator';

export class CreateFlashSaleDto {
  @ApiProperty({ example: 'PHONE-X-128' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  sku!: string;

  @ApiProperty({ example: 49900, description: 'Sale price in minor units (the SKU currency)' })
  @IsInt()
  @Min(0)
  @Max(2_000_000_000) // the catalog's price bound; beyond BIGINT it was a 500, beyond 2^53 a wrong price
  price!: number;

  @ApiProperty({ example: 100, description: 'Units carved out of the SKU inventory for the sale' })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity!: number;

  @ApiProperty({ example: 1 })
  @IsInt()
  @Min(1)
  @Max(1000)
  perUserLimit!: number;

  @ApiProperty({ example: '2026-11-24T10:00:00.000Z' })
  @IsDateString({ strict: true })
  startsAt!: string;

  @ApiProperty({ example: '2026-11-24T10:15:00.000Z', description: 'Must be after startsAt' })
  @IsDateString({ strict: true })
  endsAt!: string;
}

export class FlashSaleCreatedDto {
  @ApiProperty() id!: string;
}

export class FlashSaleDto {
  @ApiProperty() id!: string;
  @ApiProperty() sku!: string;
  @ApiProperty({ nullable: true }) productId!: string | null;
  @ApiProperty() productName!: string;
  @ApiProperty() price!: number;
  @ApiProperty() currency!: string;
  @ApiProperty() quantity!: number;
  @ApiProperty() perUserLimit!: number;
  @ApiProperty() startsAt!: string;
  @ApiProperty() endsAt!: string;
  @ApiProperty({ nullable: true, description: 'Units left; null while the sale is paused' })
  remaining!: number | null;
  @ApiProperty({ enum: ['SCHEDULED', 'ACTIVE', 'SOLD_OUT', 'ENDED', 'PAUSED'] })
  status!: 'SCHEDULED' | 'ACTIVE' | 'SOLD_OUT' | 'ENDED' | 'PAUSED';
}

export class ReservationCreatedDto {
  @ApiProperty() reservationId!: string;
}

export class PurchaseResultDto {
  @ApiProperty({
    enum: ['none', 'reserved', 'confirmed', 'rejected'],
    description:
      'Of the latest reservation: rejected = the database refused it because Redis had lost acknowledged writes (no order)',
  })
  status!: 'none' | 'reserved' | 'confirmed' | 'rejected';
  @ApiProperty({ required: false }) orderId?: string;
  @ApiProperty({ required: false, description: 'The reservation the status is about (once persisted)' })
  reservationId?: string;
  @ApiProperty({ required: false, enum: ['REDIS_LOST_STATE'], description: 'Why it was rejected' })
  reason?: 'REDIS_LOST_STATE';
  @ApiProperty({ required: false }) message?: string;
}
