import { Module } from '@nestjs/common';
import { ApiIndexController } from './api-index.controller';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';

@Module({ controllers: [HealthController, ApiIndexController], providers: [HealthService] })
export class HealthModule {}
