import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module';
import { ApiIndexController } from './api-index.controller';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({
  imports: [UsersModule],
  controllers: [HealthController, ApiIndexController],
  providers: [HealthService],
})
export class HealthModule {}
