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
  @ApiPropertyOptional({ description: 'The email tried (case-insensitive)', example: 'ada@example.com' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: '01938a8e-7b2c-7d3e-9f10-2b3c4d5e6f70' })
  @IsOptional()
  @Matches(/^[0-9a-fA-F-]{36}$/, { message: 'userId must be a UUID' })
  userId?: string;
}

export class LoginAuditItemDto {
  @ApiProperty({ example: '01938a8e-9c41-7a55-8e21-6f7a8b9c0d1e' }) id!: string;
  @ApiProperty({ nullable: true, type: String, example: '01938a8e-7b2c-7d3e-9f10-2b3c4d5e6f70' }) userId!:
    string | null;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ enum: ['login', 'logout'], example: 'login' }) event!: string;
  @ApiProperty({ enum: ['success', 'failure'], example: 'failure' }) outcome!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'unknown_email | wrong_password | rate_limited | locked for failures; logout for logouts',
    example: 'wrong_password',
  })
  reason!: string | null;
  @ApiProperty({ example: '203.0.113.7' }) ip!: string;
  @ApiProperty({ nullable: true, type: String, example: 'Mozilla/5.0 (X11; Linux x86_64)' }) userAgent!:
    string | null;
  @ApiProperty({ example: '2026-12-04T16:45:00.123Z' }) createdAt!: string;
}

export class LoginAuditPageDto {
  @ApiProperty({ type: [LoginAuditItemDto] }) items!: LoginAuditItemDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
