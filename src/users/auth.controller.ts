import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AuthUser, CurrentUser, Public } from '../common/auth';
import { AuthResult, AuthService } from './auth.service';
import { clientInfo } from './client-info';
import { RegisterThrottleGuard } from './register-throttle.guard';
import { AuthResponseDto, LoginDto, LogoutDto, RefreshDto, RegisterDto } from './dto/auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Creates a customer account and signs it in. */
  @Public()
  @UseGuards(RegisterThrottleGuard)
  @Post('register')
  @HttpCode(201)
  @ApiCreatedResponse({ type: AuthResponseDto })
  @ApiTooManyRequestsResponse({ description: 'Too many registrations from this IP (Retry-After)' })
  register(@Body() dto: RegisterDto, @Req() req: FastifyRequest): Promise<AuthResult> {
    return this.auth.register(dto, clientInfo(req));
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto })
  @ApiTooManyRequestsResponse({
    description: 'Too many failed logins for this email from this IP (Retry-After)',
  })
  login(@Body() dto: LoginDto, @Req() req: FastifyRequest): Promise<AuthResult> {
    return this.auth.login(dto, clientInfo(req));
  }

  /** Exchanges a refresh token for a new pair; the presented token is spent. */
  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: AuthResponseDto })
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
}
