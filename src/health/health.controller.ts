import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Public } from '../common/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessTokens } from '../users';
import { HealthService, PublicReadiness, ReadinessReport } from './health.service';
import { MetricsService } from '../infra/observability/metrics.service';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly metrics: MetricsService,
    private readonly tokens: AccessTokens,
  ) {}

  /** Liveness: the process runs and its event loop answers. */
  @Get('health')
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: string } {
    return { status: 'ok' };
  }

  /**
   * Readiness: 200 while this instance can serve (primary and Redis answer), 503 otherwise or
   * while draining. Anonymous callers (probes, load balancers) get the status only; an admin's
   * bearer token adds every dependency by name with its state, hosts, lag, errors and queue
   * counts (docs/observability.md).
   */
  @Get('health/ready')
  @ApiBearerAuth()
  @ApiOkResponse({
    description:
      'Ready; replicas or queues may be degraded (reads then use the primary). Anonymous: `{status}` only; ' +
      'admin token: every dependency by name (primary, replicas, redis, queues) and `unavailable`',
    schema: { example: { status: 'ok' } },
  })
  @ApiServiceUnavailableResponse({
    description: 'Not ready (primary or Redis not answering, or draining)',
    schema: { example: { status: 'error' } },
  })
  async ready(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<PublicReadiness | ReadinessReport> {
    const report = await this.health.readiness();
    void reply.status(report.status === 'error' ? 503 : 200);
    const caller = this.tokens.fromAuthorization(req.headers.authorization);
    return caller?.role === 'admin' ? report : { status: report.status };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
