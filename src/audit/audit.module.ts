import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QUEUES } from '../infra/queue/queues';
import { registerQueues } from '../infra/queue/register-queues';
import { LoginAuditRow } from './login-audit.entity';
import { LoginAuditProcessor } from './login-audit.processor';
import { LoginAuditRepository } from './login-audit.repository';
import { LoginAudit } from './login-audit.service';
import { LoginAuditsController } from './login-audits.controller';

/** The login trail: `audit` queue, its consumer, and the admin/user listings. */
@Module({
  imports: [TypeOrmModule.forFeature([LoginAuditRow]), registerQueues(QUEUES.audit)],
  controllers: [LoginAuditsController],
  providers: [LoginAuditRepository, LoginAudit, LoginAuditProcessor],
  exports: [LoginAudit],
})
export class AuditModule {}
