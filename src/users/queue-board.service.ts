import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { requestContext } from '../common/context/request-context';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig, runsHttp } from '../infra/config/app-config';
import { QueueHealth } from '../infra/queue/queue-health.service';
import { AccessTokens } from './access-tokens.service';
import { InvalidCredentialsError } from './auth.errors';
import { AuthService } from './auth.service';
import { clientInfo } from './client-info';
import type { UserProfile } from './users.types';

export const QUEUE_BOARD_PATH = '/admin/queues';
/** A verified Basic credential is remembered briefly: the UI loads assets and polls the API. */
const BASIC_CACHE_MS = 60_000;

/**
 * Bull Board for every queue at /admin/queues (outside the API prefix), admins only.
 * Accepts `Authorization: Bearer <admin access token>` (API clients) or HTTP Basic with the
 * admin's email and password (browsers are prompted); Basic attempts go through the same
 * brute-force brakes, account lock and login audit as POST /auth/login.
 */
@Injectable()
export class QueueBoard implements OnModuleInit {
  private readonly logger = new Logger('QueueBoard');
  private readonly basicOk = new Map<string, number>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly queues: QueueHealth,
    private readonly tokens: AccessTokens,
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!runsHttp(this.config.role)) return;
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.register) return;
    const serverAdapter = new BullBoardFastifyAdapter();
    serverAdapter.setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: this.queues.queues().map((q) => new BullAdapter(q)),
      // @bull-board/fastify is typed against its own copy of @bull-board/api; same interface.
      serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
      options: { uiConfig: { boardTitle: 'nest-commerce' } },
    });
    // An encapsulated scope: the auth hook guards the board's routes only.
    void fastify.register(async (scope) => {
      scope.addHook('onRequest', (req, reply) => this.authorize(req, reply));
      await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
    });
    this.logger.log(`Bull Board at ${QUEUE_BOARD_PATH}`);
  }

  private async authorize(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization ?? '';
    try {
      if (/^Bearer\s+/i.test(header)) {
        const user = this.tokens.verify(header.replace(/^Bearer\s+/i, '').trim());
        if (user.role !== 'admin') return this.deny(req, reply, 403, 'FORBIDDEN', 'Requires role admin');
        return;
      }
      if (/^Basic\s+/i.test(header)) {
        const role = await this.basic(header, req);
        if (role === 'admin') return;
        if (role) return this.deny(req, reply, 403, 'FORBIDDEN', 'Requires role admin');
      }
    } catch (err) {
      if (err instanceof DomainError && (err.kind === 'unauthenticated' || err.kind === 'rate_limited')) {
        const retry = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
        if (retry) void reply.header('retry-after', String(retry));
        return this.deny(req, reply, err.kind === 'rate_limited' ? 429 : 401, err.code, err.message);
      }
      throw err;
    }
    return this.deny(req, reply, 401, 'UNAUTHENTICATED', 'Admin credentials required');
  }

  /** The role of the Basic credential's account, or undefined when it does not authenticate. */
  private async basic(header: string, req: FastifyRequest): Promise<string | undefined> {
    const digest = createHash('sha256').update(header).digest('hex');
    const until = this.basicOk.get(digest);
    if (until && until > Date.now()) return 'admin';
    const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    if (sep < 0) return undefined;
    let user: UserProfile;
    try {
      user = await this.auth.authenticate(
        { email: decoded.slice(0, sep), password: decoded.slice(sep + 1) },
        clientInfo(req),
      );
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return undefined;
      throw err;
    }
    if (user.role === 'admin') {
      if (this.basicOk.size > 1000) this.basicOk.clear();
      this.basicOk.set(digest, Date.now() + BASIC_CACHE_MS);
    }
    return user.role;
  }

  private deny(
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
    message: string,
  ): void {
    if (status === 401)
      void reply.header('www-authenticate', 'Basic realm="nest-commerce queues", charset="UTF-8"');
    void reply
      .status(status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ statusCode: status, code, message, requestId: requestContext.requestId() ?? String(req.id) });
  }
}
