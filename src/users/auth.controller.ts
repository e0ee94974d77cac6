import { Body, Controller, HttpCode, Post, Req, UseGuards, applyDecorators } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuthUser, CurrentUser, Public } from '../common/auth';
import { ApiErrorResponse } from '../infra/http/openapi-errors';
import { AuthResult, AuthService } from './auth.service';
import { clientInfo } from './client-info';
import { EmailVerification } from './email-verification.service';
import { PasswordFlows } from './password-flows.service';
import { RegisterThrottleGuard } from './register-throttle.guard';
import {
  AcceptedDto,
  ACCOUNT_LOCKED,
  AUTH_BUSY,
  SessionAnswer,
  ConfirmEmailDto,
  ConfirmPasswordResetDto,
  LoginDto,
  LogoutDto,
  RefreshDto,
  RegisterDto,
  RateLimitedAnswer,
  RequestPasswordResetDto,
} from './auth.dto';

export const RESET_ACCEPTED = 'If an account uses this email, a password-reset link is on its way.';

/**
 * A public `POST path` that spends the token of a mailed link and answers 204 (`done`); `codes`:
 * the 400 codes of a token that cannot be used (`unusable`).
 */
const MailedLinkRoute = (
  path: string,
  doc: {
    summary: string;
    description: string;
    done: string;
    unusable: string;
    codes: Record<string, string>;
  },
): MethodDecorator =>
  applyDecorators(
    Public(),
    Post(path),
    HttpCode(204),
    ApiOperation({ summary: doc.summary, description: doc.description }),
    ApiNoContentResponse({ description: doc.done }),
    ApiErrorResponse(400, doc.unusable, doc.codes),
  );

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly verification: EmailVerification,
    private readonly passwords: PasswordFlows,
  ) {}

  /** Creates a customer account and signs it in; the welcome mail carries a verification link. */
  @Public()
  @UseGuards(RegisterThrottleGuard)
  @Post('register')
  @SessionAnswer(201)
  @RateLimitedAnswer(
    'Too many registrations from this client (IPv6: per /56), or hashing is saturated; Retry-After',
    'Too many registrations from this address; retry later',
    AUTH_BUSY,
  )
  register(@Body() dto: RegisterDto, @Req() req: FastifyRequest): Promise<AuthResult> {
    return this.auth.register(dto, clientInfo(req));
  }

  @Public()
  @Post('login')
  @SessionAnswer(200)
  @ApiErrorResponse(401, 'Unknown email or wrong password (one answer for both)', {
    INVALID_CREDENTIALS: 'Invalid email or password',
  })
  @RateLimitedAnswer(
    'A brake engaged; Retry-After says when to try again',
    'Too many failed logins for this account from this address; retry later',
    { ...ACCOUNT_LOCKED, ...AUTH_BUSY },
  )
  login(@Body() dto: LoginDto, @Req() req: FastifyRequest): Promise<AuthResult> {
    return this.auth.login(dto, clientInfo(req));
  }

  /** Exchanges a refresh token for a new pair; the presented token is spent. */
  @Public()
  @Post('refresh')
  @SessionAnswer(200)
  refresh(@Body() dto: RefreshDto): Promise<AuthResult> {
    return this.auth.refreshTokens(dto.refreshToken);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'The session (or every session) is revoked' })
  async logout(
    @CurrentUser() user: AuthUser,
    @Body() dto: LogoutDto,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.auth.logout(user.id, dto.refreshToken, clientInfo(req));
  }

  @MailedLinkRoute('email-verification/confirm', {
    summary: 'Verify the email address with the link from the welcome or verification mail',
    description:
      'The storefront page the link opens (PUBLIC_WEB_URL/verify-email?token=…) posts the token here. ' +
      'A link works once, until EMAIL_VERIFICATION_TTL_SECONDS after it was sent.',
    done: 'The address is verified',
    unusable: 'The link cannot be used',
    codes: {
      VERIFICATION_TOKEN_INVALID: 'This verification link is not valid',
      VERIFICATION_TOKEN_EXPIRED: 'This verification link has expired; ask for a new one',
    },
  })
  @ApiErrorResponse(409, 'The link was used already', {
    EMAIL_ALREADY_VERIFIED: 'This email address is already verified',
  })
  async confirmEmail(@Body() dto: ConfirmEmailDto): Promise<void> {
    await this.verification.confirm(dto.token);
  }

  @Public()
  @Post('password-reset')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Mail a password-reset link',
    description:
      'Answers the same (status, body and timing) whether or not the email names an account; only an ' +
      'account gets a mail (single-use link, valid PASSWORD_RESET_TTL_SECONDS, at most ACCOUNT_MAIL_LIMIT ' +
      'account mails per ACCOUNT_MAIL_WINDOW_SECONDS).',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @RateLimitedAnswer(
    'Too many reset attempts from this client (IPv6: per /64); Retry-After',
    'Too many password-reset attempts from this address; retry later',
  )
  async requestPasswordReset(
    @Body() dto: RequestPasswordResetDto,
    @Req() req: FastifyRequest,
  ): Promise<AcceptedDto> {
    await this.passwords.requestReset(dto.email, clientInfo(req));
    return { message: RESET_ACCEPTED };
  }

  @MailedLinkRoute('password-reset/confirm', {
    summary: 'Set a new password with the token from the reset mail',
    description:
      'Spends the token, lifts an account lock, marks the address verified, voids the other reset links ' +
      'and signs out every session; the owner is mailed a notice.',
    done: 'The password is changed; sign in with it',
    unusable: 'The token cannot be used',
    codes: {
      RESET_TOKEN_INVALID: 'This password-reset link is not valid',
      RESET_TOKEN_USED: 'This password-reset link was already used; ask for a new one',
      RESET_TOKEN_EXPIRED: 'This password-reset link has expired; ask for a new one',
    },
  })
  @RateLimitedAnswer(
    'Too many reset attempts from this client, or hashing is saturated; Retry-After',
    'Too many password-reset attempts from this address; retry later',
    AUTH_BUSY,
  )
  async confirmPasswordReset(
    @Body() dto: ConfirmPasswordResetDto,
    @Req() req: FastifyRequest,
  ): Promise<void> {
    await this.passwords.confirmReset(dto.token, dto.password, clientInfo(req));
  }
}
