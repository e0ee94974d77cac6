import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { NotificationsModule } from '../notifications/notifications.module';
import { AccessTokens } from './access-tokens.service';
import { AccountLimits } from './account-limits';
import { AdminBootstrap } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { EmailVerification } from './email-verification.service';
import { LoginAttempts } from './login-attempts.service';
import { PasswordFlows } from './password-flows.service';
import { PasswordHasher } from './password-hasher.service';
import { PasswordResetProcessor } from './password-reset.processor';
import { PasswordResetToken } from './password-reset-token.entity';
import { QueueBoard } from './queue-board.service';
import { RegisterThrottleGuard } from './register-throttle.guard';
import { RefreshToken } from './refresh-token.entity';
import { RefreshTokens } from './refresh-tokens.service';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersHousekeepingProcessor } from './users-housekeeping.processor';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/**
 * Accounts, tokens, the global auth guard (HTTP + gRPC), brute-force limits and the account lock,
 * bounded password hashing, email verification, password reset and change, the admin-only Bull
 * Board, and on the `users` queue the reset-request jobs and the hourly purge of long-expired
 * tokens. Login events go to the audit module; mails to notifications.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([User, RefreshToken, PasswordResetToken]),
    registerQueues(QUEUES.users),
    AuditModule,
    NotificationsModule,
  ],
  controllers: [AuthController, UsersController],
  providers: [
    UsersRepository,
    UsersService,
    AuthService,
    AccessTokens,
    RefreshTokens,
    AdminBootstrap,
    LoginAttempts,
    PasswordHasher,
    AccountLimits,
    EmailVerification,
    PasswordFlows,
    PasswordResetProcessor,
    RegisterThrottleGuard,
    QueueBoard,
    UsersHousekeepingProcessor,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [UsersService, AccessTokens],
})
export class UsersModule {}
