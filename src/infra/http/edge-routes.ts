import { HttpException, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { RequestContext, requestContext } from '../../common/context/request-context';
import { AppConfig } from '../config/app-config';
import { Lifecycle } from '../lifecycle.service';
import { AccessLog } from '../observability/access-log';
import { MetricsService } from '../observability/metrics.service';
import { errorResponse } from './http-exception.filter';
import { API_PREFIX, JSON_TYPE, requestIdFor } from './response-headers';

/** What an edge handler answers: a status and a ready JSON body (plus extra headers, rarely). */
export interface EdgeAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * An edge handler. It gets the route's path parameter ('' for a route without one), the request
 * (headers only: these routes never have a body), the request context and, on a route added
 * with `{ query: true }`, the raw query string ('' when there is none). It either declines
 * **synchronously** by returning `undefined` — the request then goes through Fastify and Nest
 * exactly as if the edge did not exist — or answers, now or with a promise. A thrown error or a
 * rejected promise is answered in the contract's error shape, as the exception filter would. Once
 * it has started work that has effects, a handler must answer: the pipeline must never run the
 * same work twice.
 */
export type EdgeHandler = (
  param: string,
  req: IncomingMessage,
  ctx: RequestContext,
  query: string,
) => EdgeAnswer | Promise<EdgeAnswer> | undefined;

/**
 * A handler of a route that takes a JSON body. It decides **synchronously**, on the headers alone
 * (typically: a valid bearer token), whether the edge takes the request; it then returns the
 * function that answers once the body is read and parsed by Fastify's own JSON parser. Once the
 * edge has read the body it must answer (the pipeline can no longer read it): a body Fastify's
 * parser refuses gets Fastify's error, answered in the contract's shape, as on the pipeline.
 */
export type EdgeBodyHandler = (
  param: string,
  req: IncomingMessage,
  ctx: RequestContext,
) => ((body: unknown) => EdgeAnswer | Promise<EdgeAnswer>) | undefined;

/** Fastify's JSON body parser as installed on the app (Nest passes it the raw bytes). */
export type JsonParser = (
  req: IncomingMessage,
  body: Buffer,
  done: (err: Error | null, value?: unknown) => void,
) => void;

interface EdgeRoute {
  method: 'GET' | 'POST';
  prefix: string;
  suffix: string;
  /** The route has no path parameter: the URL must be exactly `prefix`. */
  exact: boolean;
  /** The metrics label: the same route template Fastify reports for the pipeline's route. */
  label: string;
  /** An EdgeBodyHandler when `takesBody`, else an EdgeHandler. */
  handler: EdgeHandler | EdgeBodyHandler;
  takesBody: boolean;
  /** The handler judges the query string itself (else a URL with one is the pipeline's). */
  query: boolean;
}

/** Fastify's default `maxParamLength`: longer parameters are the router's own error. */
const MAX_PARAM = 100;
/** Bodies the edge reads itself: small JSON documents (anything larger is the pipeline's). */
const MAX_EDGE_BODY = 8 * 1024;
const EDGE_BODY_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);

/**
 * The HTTP edge: a handful of hot routes answered in front of Fastify and Nest, on the Node
 * request event, with the response headers every API response carries.
 *
 * The full pipeline costs ~2× a bare hello-world per request on this hardware (hooks, CORS,
 * guards, pipes, interceptors, filters); for the answers that are a lookup in process memory — a
 * product page in the L1 cache, a sold-out flash sale — or one Redis round trip — a flash
 * purchase, a cart — that overhead is most of the work. Modules register an edge handler next to
 * their controller route (same path, same service call); the edge takes a request only when it is
 * the plain case: exact path (no fragment; no query string unless the route parses it itself, as
 * the product listing does for its plain queries), no `Origin` (CORS stays with the
 * pipeline), no body or Content-Type (or, on a body route, a small JSON body with its length
 * given), the instance neither draining nor closing. Anything else — and anything a handler
 * declines — goes down the ordinary pipeline, which is the reference behaviour
 * (docs/decisions/0010-http-edge.md). With HTTP_LOG on, the edge writes the same access line as
 * the pipeline's onResponse hook (AccessLog, one line per request).
 *
 * A concern added to every request as a Fastify hook or a global Nest enhancer does not reach
 * edge routes by itself: add it here too. test/http/edge.e2e-spec.ts compares the two answers.
 */
@Injectable()
export class EdgeRoutes {
  private readonly logger = new Logger('HttpError');
  private readonly routes: EdgeRoute[] = [];
  /** Set when the HTTP server starts closing (Fastify then answers 503 + close itself). */
  private closing = false;
  private parseJson?: JsonParser;

  constructor(
    private readonly config: AppConfig,
    private readonly lifecycle: Lifecycle,
    private readonly metrics: MetricsService,
    private readonly accessLog: AccessLog,
  ) {}

  /**
   * Registers a handler for `path` under the API prefix, with at most one `:param` segment
   * (e.g. `products/:id`, `flash-sales/:id/purchase`, `cart`). A Nest route with the same method
   * and path must exist: it serves every request the edge declines.
   */
  add(method: 'GET' | 'POST', path: string, handler: EdgeHandler, opts: { query?: boolean } = {}): void {
    this.routes.push({ ...this.parse(method, path), handler, takesBody: false, query: opts.query === true });
  }

  /** Registers a route that takes a small JSON body (see EdgeBodyHandler). */
  addWithBody(method: 'POST', path: string, handler: EdgeBodyHandler): void {
    this.routes.push({ ...this.parse(method, path), handler, takesBody: true, query: false });
  }

  private parse(method: 'GET' | 'POST', path: string): Omit<EdgeRoute, 'handler' | 'takesBody' | 'query'> {
    const label = `/${API_PREFIX}/${path}`;
    if (/^[a-z0-9/-]+$/.test(path)) return { method, prefix: label, suffix: '', exact: true, label };
    const m = /^([a-z0-9/-]*\/):[a-zA-Z]+(\/[a-z0-9/-]*)?$/.exec(path);
    if (!m) throw new Error(`edge route ${path}: at most one ":param" segment expected`);
    return { method, prefix: `/${API_PREFIX}/${m[1]}`, suffix: m[2] ?? '', exact: false, label };
  }

  /**
   * Puts the edge in front of the server's request listeners (Fastify's handler). `headers` are
   * the ones every pipeline answer without an `Origin` carries (security set, CORS vary/expose).
   */
  install(server: Server, headers: Record<string, string>, parseJson: JsonParser): void {
    this.parseJson = parseJson;
    // A flat [name, value, ...] list: Node writes it as it is (an object goes through setHeader
    // once per key, which cost a third of this path's CPU).
    const fixed = [...Object.entries(headers).flat(), 'content-type', JSON_TYPE];
    const next = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.serve(req, res, fixed)) return;
      for (const l of next) l.call(server, req, res);
    });
  }

  /** From now on every request goes to the pipeline (called when the HTTP server starts closing). */
  close(): void {
    this.closing = true;
  }

  /** True when the edge took the request. */
  private serve(req: IncomingMessage, res: ServerResponse, headers: readonly string[]): boolean {
    const target = req.url ?? '';
    // A fragment, an Origin (CORS), a draining or closing instance: the pipeline's call. So is a
    // query string, unless the route judges it itself ({ query: true }).
    if (req.headers.origin !== undefined || target.includes('#') || this.closing || this.lifecycle.isDraining)
      return false;
    const q = target.indexOf('?');
    const url = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      let param = '';
      if (route.exact) {
        if (url !== route.prefix) continue;
      } else {
        if (!url.startsWith(route.prefix) || !url.endsWith(route.suffix)) continue;
        param = url.slice(route.prefix.length, url.length - route.suffix.length);
        if (!param || param.length > MAX_PARAM || param.includes('/') || param.includes('%')) return false;
      }
      if (q >= 0 && !route.query) return false;
      if (route.takesBody) {
        // A small JSON body whose length is given; anything else (chunked, other types, an
        // Expect header, large) is Fastify's to judge.
        const type = req.headers['content-type'];
        const length = Number(req.headers['content-length']);
        if (
          type === undefined ||
          !EDGE_BODY_TYPES.has(type.toLowerCase()) ||
          req.headers['transfer-encoding'] !== undefined ||
          req.headers.expect !== undefined ||
          !Number.isSafeInteger(length) ||
          length < 0 ||
          length > Math.min(MAX_EDGE_BODY, this.config.http.bodyLimitBytes) ||
          !this.parseJson
        )
          return false;
        return this.run(route, param, query, req, res, headers);
      }
      // Edge routes take no body. A Content-Type alone makes Fastify parse one (an empty JSON body
      // is a 400, an unknown type a 415): such a request is the pipeline's too.
      if (
        route.method !== 'GET' &&
        (req.headers['transfer-encoding'] !== undefined ||
          req.headers['content-type'] !== undefined ||
          (req.headers['content-length'] ?? '0') !== '0')
      )
        return false;
      return this.run(route, param, query, req, res, headers);
    }
    return false;
  }

  /**
   * Runs the route's handler in a new request context. Its synchronous answer is `undefined` (the
   * pipeline's request), an answer, or, on a body route, what to do with the body once it is read.
   */
  private run(
    route: EdgeRoute,
    param: string,
    query: string,
    req: IncomingMessage,
    res: ServerResponse,
    headers: readonly string[],
  ): boolean {
    const started = performance.now();
    const requestId = requestIdFor(req);
    const ctx: RequestContext = { requestId };
    let out: ReturnType<EdgeHandler | EdgeBodyHandler>;
    try {
      out = requestContext.run(ctx, () => route.handler(param, req, ctx, query));
    } catch (err) {
      out = requestContext.run(ctx, () => this.errorAnswer(err, requestId));
    }
    if (out === undefined) return false;
    if (typeof out !== 'function') {
      this.answer(out, route, req, res, headers, ctx, started);
      return true;
    }
    const then = out;
    // The parser calls back synchronously; the answer runs in the request's context.
    this.readJson(req, res, (err, body) => {
      let answer: EdgeAnswer | Promise<EdgeAnswer>;
      try {
        // Nest's router wraps Fastify's own errors so (RoutesResolver.mapExternalException).
        if (err) throw new HttpException(err.message, (err as { statusCode?: number }).statusCode ?? 400);
        answer = requestContext.run(ctx, () => then(body));
      } catch (e) {
        answer = requestContext.run(ctx, () => this.errorAnswer(e, requestId));
      }
      this.answer(answer, route, req, res, headers, ctx, started);
    });
    return true;
  }

  /** Reads the body and parses it with Fastify's JSON parser. */
  private readJson(req: IncomingMessage, res: ServerResponse, done: Parameters<JsonParser>[2]): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => this.parseJson!(req, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), done));
  }

  private answer(
    out: EdgeAnswer | Promise<EdgeAnswer>,
    route: EdgeRoute,
    req: IncomingMessage,
    res: ServerResponse,
    headers: readonly string[],
    ctx: RequestContext,
    started: number,
  ): void {
    const requestId = ctx.requestId;
    const send = (a: EdgeAnswer) => {
      // `headers` ends with the content type (install): a copy, then the two per-answer ones.
      const list = headers.slice();
      list.push('content-length', String(Buffer.byteLength(a.body)), 'x-request-id', requestId);
      if (a.headers) for (const [k, v] of Object.entries(a.headers)) list.push(k, v);
      res.writeHead(a.status, list);
      res.end(a.body);
      const ms = performance.now() - started;
      this.metrics.observeHttp(route.method, route.label, a.status, ms / 1000);
      this.accessLog.record(route.method, req.url ?? '', a.status, ms, requestId);
    };
    if (out instanceof Promise)
      out.then(send, (err: unknown) =>
        // In the request's context, so a logged 5xx carries its request id as on the pipeline.
        requestContext.run(ctx, () => send(this.errorAnswer(err, requestId))),
      );
    else send(out);
  }

  private errorAnswer(err: unknown, requestId: string): EdgeAnswer {
    const { body, headers } = errorResponse(err, requestId, this.logger);
    return { status: body.statusCode, body: JSON.stringify(body), headers };
  }
}
