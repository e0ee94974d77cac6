import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../common/auth';
import type { FastifyReply } from 'fastify';
import { HealthService, ReadinessReport } from './health.service';
import { MetricsService } from '../infra/observability/metrics.service';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process runs and its event loop answers. */
  @Get('health')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: string } {
    return { status: 'ok' };
  }

  /** Readiness: 200 while this instance can serve (primary and Redis up), 503 otherwise or while draining. */
  @Get('health/ready')
  @ApiOkResponse({ description: 'Ready; replicas may be degraded (reads then use the primary)' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessReport> {
    const report = await this.health.readiness();
    void reply.status(report.status === 'error' ? 503 : 200);
    return report;
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
