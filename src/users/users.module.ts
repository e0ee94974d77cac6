import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { QUEUES, queueJobOptions } from '../infra/queue/queues';
import { NotificationsModule } from '../notifications/notifications.module';
import { AccessTokens } from './access-tokens.service';
import { AdminBootstrap } from './admin-bootstrap.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { LoginAttempts } from './login-attempts.service';
import { QueueBoard } from './queue-board.service';
import { RegisterThrottleGuard } from './register-throttle.guard';
import { RefreshToken } from './refresh-token.entity';
import { RefreshTokens } from './refresh-tokens.service';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersHousekeepingProcessor } from './users-housekeeping.processor';
import { UsersService } from './users.service';

/**
 * Accounts, tokens, the global auth guard (HTTP + gRPC), brute-force limits, the admin-only Bull
 * Board, and the hourly purge of long-expired refresh tokens (`users` queue). Login events go to
 * the audit module; the welcome mail to notifications.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([User, RefreshToken]),
    BullModule.registerQueue({ name: QUEUES.users, defaultJobOptions: queueJobOptions(QUEUES.users) }),
    AuditModule,
    NotificationsModule,
  ],
  controllers: [AuthController, UsersController],
  providers: [
    UsersService,
    AuthService,
    AccessTokens,
    RefreshTokens,
    AdminBootstrap,
    LoginAttempts,
    RegisterThrottleGuard,
    QueueBoard,
    UsersHousekeepingProcessor,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [UsersService, AccessTokens],
})
export class UsersModule {}
