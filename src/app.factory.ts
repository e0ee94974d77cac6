import { Logger as NestLogger, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, OpenAPIObject } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import { requestContext } from './common/context/request-context';
import { AppConfig, runsHttp } from './infra/config/app-config';
import { HttpExceptionFilter, toErrorBody } from './infra/http/http-exception.filter';
import { ErrorResponseDto } from './infra/http/error-response.dto';
import { documentErrorResponses } from './infra/http/openapi-errors';
import { createValidationPipe } from './infra/http/validation.pipe';
import { EdgeRoutes } from './infra/http/edge-routes';
import {
  API_PREFIX,
  CORS_EXPOSED_HEADERS,
  DOCS_HEADERS,
  SECURITY_HEADERS,
  requestIdFor,
} from './infra/http/response-headers';
import { GrpcServer } from './infra/grpc/grpc-server';
import { ORDERS_GRPC } from './orders';
import { PAYMENTS_GRPC } from './payments';
import { Lifecycle } from './infra/lifecycle.service';
import { MetricsService } from './infra/observability/metrics.service';
import { AccessLog } from './infra/observability/access-log';
import type { JsonParser } from './infra/http/edge-routes';

const OUTSIDE_PREFIX = ['health', 'health/ready', 'metrics'];

/** Builds the configured application (HTTP side); main.ts and the e2e tests share it. */
export async function createApp(
  config: AppConfig,
  opts: { logger?: boolean } = {},
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: requestIdFor,
    // Errors of the router itself (malformed percent-encoding, a path parameter over 100
    // characters) skip hooks and the error handler: answer them in the contract shape too.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => {
      const body = toErrorBody(err, String(req.id), new NestLogger('HttpError'));
      void reply.headers(SECURITY_HEADERS).header('x-request-id', req.id).status(body.statusCode).send(body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    bufferLogs: true,
    abortOnError: false,
    // Keeps the JSON body's bytes on req.rawBody (Nest parses every JSON body as a Buffer anyway,
    // so this is one extra reference, not a copy): signed webhooks are verified on those bytes.
    rawBody: true,
  });
  if (opts.logger !== false) app.useLogger(app.get(Logger));
  else app.useLogger(false);

  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  const accessLog = app.get(AccessLog);

  // Swagger UI's page links its assets relative to /docs: served at /docs/ they would resolve
  // under /docs/docs/ (a blank page). One canonical address instead.
  fastify.addHook('onRequest', (req, reply, done) => {
    const q = req.url.indexOf('?');
    if ((q < 0 ? req.url : req.url.slice(0, q)) !== '/docs/') return done();
    void reply.redirect(`/docs${q < 0 ? '' : req.url.slice(q)}`, 301);
  });
  // Every request runs in its own context (request id, caller, read-your-writes state).
  // When the request began, for the line of a request its client abandons (onRequestAbort).
  fastify.decorateRequest('ncStartedAt', 0);
  fastify.addHook('onRequest', (req, reply, done) => {
    (req as unknown as { ncStartedAt: number }).ncStartedAt = performance.now();
    void reply.headers(req.url.startsWith('/docs') ? DOCS_HEADERS : SECURITY_HEADERS);
    void reply.header('x-request-id', req.id);
    requestContext.run({ requestId: String(req.id) }, done);
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    const ms = reply.elapsedTime;
    metrics.observeHttp(req.method, req.routeOptions?.url ?? 'unmatched', reply.statusCode, ms / 1000);
    accessLog.record(req.method, req.url, reply.statusCode, ms, String(req.id));
    done();
  });
  // A client that leaves before its answer gets no onResponse: its line comes from here.
  fastify.addHook('onRequestAbort', (req, done) => {
    const started = (req as unknown as { ncStartedAt: number }).ncStartedAt;
    accessLog.aborted(req.method, req.url, started ? performance.now() - started : 0, String(req.id));
    done();
  });
  // Errors raised by Fastify itself before Nest sees the request (body parsing, limits) reach
  // the error handler Nest installs at init, which runs the global HttpExceptionFilter: one
  // place for the contract's error shape. (A second handler here only drew FSTWRN004.)
  if (!runsHttp(config.role)) {
    // A worker answers only health and metrics on PORT.
    fastify.addHook('onRequest', (req, reply, done) => {
      const path = (req.url ?? '').split('?')[0].replace(/^\//, '');
      if (OUTSIDE_PREFIX.includes(path)) return done();
      void reply.status(404).send({
        statusCode: 404,
        code: 'NOT_FOUND',
        message: 'This instance is a worker',
        requestId: req.id,
      });
    });
  }

  app.enableCors({ origin: config.http.corsOrigins, exposedHeaders: CORS_EXPOSED_HEADERS });
  app.setGlobalPrefix(API_PREFIX, { exclude: OUTSIDE_PREFIX });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: undefined });
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(createValidationPipe());
  app.enableShutdownHooks();

  setupSwagger(app);
  if (runsHttp(config.role)) {
    attachGrpc(app, config);
    // The hot routes' edge (in front of Fastify) answers with what the pipeline puts on every
    // response without an Origin: the security set and CORS's Vary and exposed headers.
    const edge = app.get(EdgeRoutes);
    // Bodies the edge reads are parsed by the same function Nest installs for application/json.
    const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
    const parseJson = fastify.getDefaultJsonParser(
      onProtoPoisoning || 'error',
      onConstructorPoisoning || 'error',
    ) as unknown as JsonParser;
    edge.install(
      fastify.server,
      {
        ...SECURITY_HEADERS,
        vary: 'Origin',
        'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
      },
      parseJson,
    );
    // Once Fastify starts closing it answers 503 + Connection: close; the edge steps aside for it.
    fastify.addHook('preClose', (done) => {
      edge.close();
      done();
    });
  }
  return app;
}

const grpcServers = new WeakMap<NestFastifyApplication, GrpcServer>();

/** The gRPC side of the hybrid app (same process, guards and filters as HTTP), on GRPC_PORT. */
function attachGrpc(app: NestFastifyApplication, config: AppConfig): void {
  const server = new GrpcServer({
    url: `0.0.0.0:${config.grpcPort}`,
    packages: [ORDERS_GRPC.package, PAYMENTS_GRPC.package],
    protoPaths: [ORDERS_GRPC.protoPath, PAYMENTS_GRPC.protoPath],
    includeDirs: [ORDERS_GRPC.includeDir, PAYMENTS_GRPC.includeDir],
    services: [ORDERS_GRPC.service, PAYMENTS_GRPC.service],
    drainMs: Math.min(5000, Math.floor(config.shutdownTimeoutMs / 2)),
  });
  app.connectMicroservice<MicroserviceOptions>({ strategy: server }, { inheritAppConfig: true });
  grpcServers.set(app, server);
}

/** The port gRPC listens on (GRPC_PORT, or the one picked when it is 0); undefined when not serving gRPC. */
export function grpcPort(app: NestFastifyApplication): number | undefined {
  return grpcServers.get(app)?.port;
}

export function buildOpenApi(app: NestFastifyApplication): OpenAPIObject {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('nest-commerce')
      .setDescription(
        'E-commerce REST API. Money is an integer in minor units plus an ISO 4217 currency code. ' +
          'Every error has the shape `{statusCode, code, message, requestId, details?}`.',
      )
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
    { extraModels: [ErrorResponseDto] },
  );
  // The error shape is documented on every operation.
  return documentErrorResponses(doc);
}

function setupSwagger(app: NestFastifyApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApi(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
    customSiteTitle: 'nest-commerce API',
  });
}

/** Starts listening: gRPC on GRPC_PORT (roles that serve HTTP), then HTTP on PORT. */
export async function listen(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  if (grpcServers.has(app)) await app.startAllMicroservices();
  await app.listen({ port: config.port, host: '0.0.0.0' });
  app.get(Lifecycle).markStarted();
}
