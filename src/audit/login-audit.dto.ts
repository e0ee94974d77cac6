import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';
import { PageCursor, PageLimit } from '../infra/http/page-query';
import { OptionalText } from '../infra/http/dto-properties';

export class LoginAuditPageQuery {
  @PageCursor() cursor?: string;
  @PageLimit(200, 50) limit?: number;
}

export class LoginAuditQueryDto extends LoginAuditPageQuery {
  @OptionalText(254, { description: 'The email tried (case-insensitive)', example: 'ada@example.com' })
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
