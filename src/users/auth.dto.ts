import { HttpCode, applyDecorators } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ApiErrorResponse } from '../infra/http/openapi-errors';
import { IsEmail, IsNotEmpty, IsString, MaxLength, MinLength } from 'class-validator';
import { OptionalText } from '../infra/http/dto-properties';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** No `role` here: the validation pipe rejects unknown fields, so a client cannot pick its role. */
export class RegisterDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple', minLength: 8, maxLength: 128 })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  password!: string;

  @ApiProperty({ example: 'Ada Lovelace', maxLength: 100 })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;
}

export class LoginDto {
  @ApiProperty({ example: 'ada@example.com' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(254)
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'The refresh token from register, login or the previous refresh' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refreshToken!: string;
}

export class LogoutDto {
  @OptionalText(200, {
    description: 'Ends this session (the token family). Omitted: every session of the caller ends.',
  })
  refreshToken?: string;
}

export class UserDto {
  @ApiProperty({ example: '01931f5e-7d1a-7c3e-8f4a-1b2c3d4e5f60' }) id!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ example: 'Ada Lovelace' }) name!: string;
  @ApiProperty({ enum: ['customer', 'admin'] }) role!: 'customer' | 'admin';
}

export class AuthResponseDto {
  @ApiProperty({ type: UserDto }) user!: UserDto;
  @ApiProperty({ description: 'HS256 JWT; send as `Authorization: Bearer <accessToken>`' })
  accessToken!: string;
  @ApiProperty({ description: 'Opaque; single use, exchanged at POST /auth/refresh' })
  refreshToken!: string;
}

export class MeDto extends UserDto {
  @ApiProperty({
    example: false,
    description: 'The owner followed a verification (or password-reset) link mailed to `email`',
  })
  emailVerified!: boolean;
  @ApiProperty({ example: '2026-11-23T09:40:00.000Z' }) createdAt!: string;
}

export class ConfirmEmailDto {
  @ApiProperty({
    description: 'The `token` query parameter of the link in the verification mail',
    example: '0193a6a4-2f0e-7c41-9b1e-5d0c3f7a9e21.1767225600.q3Jx9sVtQy0m5n1cW0d9bq2mXzq8w2H5Jk7r4s6t8uA',
    maxLength: 300,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  token!: string;
}

export class RequestPasswordResetDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(trim)
  @IsEmail()
  @MaxLength(254)
  email!: string;
}

export class ConfirmPasswordResetDto {
  @ApiProperty({
    description: 'The `token` query parameter of the link in the password-reset mail',
    example: 'Zq4nC1tq8QWm0b3v9yXkR2sT5uH7jL6pE0dG8fA3cB1',
    maxLength: 200,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token!: string;

  @ApiProperty({ example: 'a new horse battery staple', minLength: 8, maxLength: 128 })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  password!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ example: 'correct horse battery staple', maxLength: 128 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  currentPassword!: string;

  @ApiProperty({ example: 'a new horse battery staple', minLength: 8, maxLength: 128 })
  @IsString()
  @MinLength(8)
  @MaxLength(128)
  newPassword!: string;
}

/** The answer of an accepted request whose effect happens later (a mail on its way). */
export class AcceptedDto {
  @ApiProperty({ example: 'If an account uses this email, a password-reset link is on its way.' })
  message!: string;
}

/** The 429 codes every route that verifies a password may answer (examples for the OpenAPI document). */
export const AUTH_BUSY = { AUTH_BUSY: 'Too many sign-ins are being processed right now; retry shortly' };
export const ACCOUNT_LOCKED = {
  ACCOUNT_LOCKED: 'This account is temporarily locked after too many failed logins',
};

/**
 * The 429 of a route behind a per-client brake: RATE_LIMITED with the brake's `message`, plus the
 * other 429 codes the route answers (ACCOUNT_LOCKED, AUTH_BUSY).
 */
export const RateLimitedAnswer = (
  description: string,
  message: string,
  others: Record<string, string> = {},
): MethodDecorator => ApiErrorResponse(429, description, { RATE_LIMITED: message, ...others });

/** A route that answers a new session (AuthResponseDto) with `status`: register 201, login/refresh/password change 200. */
export const SessionAnswer = (status: 200 | 201): MethodDecorator =>
  applyDecorators(
    HttpCode(status),
    (status === 201 ? ApiCreatedResponse : ApiOkResponse)({ type: AuthResponseDto }),
  );
