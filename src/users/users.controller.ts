import { ReadRoute, SignedInController } from '../infra/http/routes';
import { Body, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth';
import { ApiErrorResponse } from '../infra/http/openapi-errors';
import type { AuthResult } from './auth.service';
import {
  ACCOUNT_LOCKED,
  AUTH_BUSY,
  AcceptedDto,
  ChangePasswordDto,
  MeDto,
  RateLimitedAnswer,
  SessionAnswer,
} from './auth.dto';
import { EmailVerification } from './email-verification.service';
import { PasswordFlows } from './password-flows.service';
import { UsersService } from './users.service';

@SignedInController('users', 'users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly verification: EmailVerification,
    private readonly passwords: PasswordFlows,
  ) {}

  @ReadRoute({ type: MeDto }, 'me')
  async me(@CurrentUser() caller: AuthUser): Promise<MeDto> {
    const u = await this.users.getById(caller.id);
    return {
      id: u.id,
      email: u.email,
      name: u.name,
      role: u.role,
      emailVerified: u.emailVerified,
      createdAt: u.createdAt.toISOString(),
    };
  }

  @Post('me/email-verification')
  @HttpCode(202)
  @ApiOperation({ summary: 'Mail a new email-verification link to the caller' })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiErrorResponse(409, 'Nothing to verify', {
    EMAIL_ALREADY_VERIFIED: 'This email address is already verified',
  })
  @RateLimitedAnswer(
    'ACCOUNT_MAIL_LIMIT account mails per window were sent already; Retry-After',
    'Too many account mails for this account; retry later',
  )
  async resendVerification(@CurrentUser() caller: AuthUser): Promise<AcceptedDto> {
    await this.verification.resend(caller.id);
    return { message: 'A verification link is on its way.' };
  }

  @Post('me/password')
  @SessionAnswer(200)
  @ApiOperation({
    summary: 'Change the password (the current one is required)',
    description:
      'Every session of the account ends (all refresh tokens are revoked); the answer is a new session. ' +
      'Wrong current passwords count towards the account lock like wrong login passwords.',
  })
  @ApiErrorResponse(403, 'The current password is wrong', {
    INVALID_CURRENT_PASSWORD: 'The current password is not correct',
  })
  @ApiErrorResponse(429, 'The account is locked, or hashing is saturated; Retry-After', {
    ...ACCOUNT_LOCKED,
    ...AUTH_BUSY,
  })
  changePassword(@CurrentUser() caller: AuthUser, @Body() dto: ChangePasswordDto): Promise<AuthResult> {
    return this.passwords.change(caller.id, dto.currentPassword, dto.newPassword);
  }
}
