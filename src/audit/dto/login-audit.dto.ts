import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** Strict: `Number('0x10')` is 16, `Number(' 1')` is 1. */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;

export class LoginAuditPageQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class LoginAuditQueryDto extends LoginAuditPageQuery {
  @ApiPropertyOptional({ description: 'The email tried (case-insensitive)' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(/^[0-9a-fA-F-]{36}$/, { message: 'userId must be a UUID' })
  userId?: string;
}

export class LoginAuditItemDto {
  @ApiProperty() id!: string;
  @ApiProperty({ nullable: true, type: String }) userId!: string | null;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ['login', 'logout'] }) event!: string;
  @ApiProperty({ enum: ['success', 'failure'] }) outcome!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'unknown_email | wrong_password | rate_limited | locked for failures; logout for logouts',
  })
  reason!: string | null;
  @ApiProperty() ip!: string;
  @ApiProperty({ nullable: true, type: String }) userAgent!: string | null;
  @ApiProperty() createdAt!: string;
}

export class LoginAuditPageDto {
  @ApiProperty({ type: [LoginAuditItemDto] }) items!: LoginAuditItemDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
