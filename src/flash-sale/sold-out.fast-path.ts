import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccessTokens } from '../users';
import { SoldOutError } from './flash-sale.errors';
import { FlashSaleMetrics } from './flash-sale.metrics';
import { SoldOutFlags } from './sold-out-flags';

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i;

/**
 * The sold-out answer of `POST /flash-sales/:id/purchase` at the edge of the HTTP adapter.
 *
 * During a sale's burst nearly every request hits a sold-out sale, and the answer is a pure
 * function of an in-process flag. This Fastify `onRequest` hook (it runs after the app-wide one
 * that sets the request id and security headers, and before Nest's guards, pipes and filters)
 * answers exactly that case: the route is the purchase route, the caller's bearer token is
 * valid (the same {@link AccessTokens} the global guard uses) and the flag is up. Everything else
 * — no or bad token (401 from the guard), a flag that is down, any other route — falls through
 * to the ordinary Nest pipeline unchanged, which gives the same SOLD_OUT answer from the same
 * flag when this hook is absent. The body is the contract's error shape, built from the same
 * SoldOutError.
 */
@Injectable()
export class SoldOutFastPath implements OnModuleInit {
  private readonly body: { statusCode: number; code: string; message: string };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly flags: SoldOutFlags,
    private readonly tokens: AccessTokens,
    private readonly metrics: FlashSaleMetrics,
  ) {
    const e = new SoldOutError();
    this.body = { statusCode: 409, code: e.code, message: e.message };
  }

  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter || adapter.getType() !== 'fastify') return;
    const fastify = adapter.getInstance<FastifyInstance>();
    fastify.addHook('onRequest', (req, reply, done) => {
      if (this.answer(req, reply)) return;
      done();
    });
  }

  /** True when it answered (the hook then stops the request there). */
  answer(req: FastifyRequest, reply: FastifyReply): boolean {
    if (req.method !== 'POST' || !req.routeOptions.url?.endsWith('/flash-sales/:id/purchase')) return false;
    const saleId = (req.params as { id?: string } | undefined)?.id;
    if (!saleId || !this.flags.isSoldOut(saleId)) return false;
    const m = BEARER.exec(req.headers.authorization ?? '');
    if (!m) return false;
    try {
      this.tokens.verify(m[1]);
    } catch {
      return false;
    }
    this.metrics.purchases.inc({ outcome: 'sold_out_local' });
    void reply
      .status(409)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ ...this.body, requestId: String(req.id) });
    return true;
  }
}
