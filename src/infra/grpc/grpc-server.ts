import { Logger } from '@nestjs/common';
import { GrpcOptions, ServerGrpc } from '@nestjs/microservices';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requestContext } from '../../common/context/request-context';
import type { GrpcCallType, MetricsService } from '../observability/metrics.service';
import { fileDescriptorProtos, ProtoFile } from './file-descriptors';

/** Loader options: field names stay snake_case as in the .proto files, enums are their names. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** grpc status code -> its name (OK, NOT_FOUND, ...), the label value of the call histogram. */
const STATUS_NAMES: string[] = [];
for (const [name, code] of Object.entries(grpc.status))
  if (typeof code === 'number') STATUS_NAMES[code] = name;

/** Where finished calls are reported (MetricsService; set once the app is up, see InfraMetrics). */
export type GrpcCallSink = Pick<MetricsService, 'observeGrpc'>;

interface RouteLabels {
  service: string;
  method: string;
  type: GrpcCallType;
}

interface GrpcCallLike {
  metadata?: grpc.Metadata;
}

export interface GrpcServerOptions {
  url: string;
  /** Fully qualified package names, e.g. shop.orders.v1 */
  packages: string[];
  /** Proto files, relative to one of includeDirs. */
  protoPaths: string[];
  includeDirs: string[];
  /** Fully qualified services reported SERVING by grpc.health.v1.Health. */
  services: string[];
  /** How long close() waits for calls in flight before cutting them. */
  drainMs: number;
  /**
   * HTTP/2 keepalive: the server pings a connection idle this long and closes it (cancelling its
   * streams) when no answer comes within `keepaliveTimeoutMs` — so a peer that vanished without
   * closing (a dead NAT entry, a killed laptop) does not hold its long-lived streams forever.
   */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
}

/** Where @grpc/reflection keeps the reflection protos it serves (build/proto/grpc/reflection/...). */
const REFLECTION_PROTO_ROOT = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto');

/**
 * Server reflection over every service on the port — ours, grpc.health.v1.Health and the reflection
 * services themselves (v1 and v1alpha) — answering with each .proto file under its own name and with
 * its dependencies (see file-descriptors.ts), so clients that link descriptors can build the schema.
 */
function reflectionService(opts: Pick<GrpcServerOptions, 'protoPaths' | 'includeDirs'>): ReflectionService {
  const files: ProtoFile[] = opts.protoPaths.map((name) => {
    const dir = opts.includeDirs.find((d) => existsSync(join(d, name)));
    if (!dir) throw new Error(`${name} is in none of ${opts.includeDirs.join(', ')}`);
    return { name, path: join(dir, name) };
  });
  files.push({ name: 'grpc/health/v1/health.proto', path: healthProtoPath });
  for (const name of ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'])
    files.push({ name, path: join(REFLECTION_PROTO_ROOT, name) });
  // @grpc/reflection reads only `fileDescriptorProtos` of each entry of a package definition.
  const definition = { files: { fileDescriptorProtos: fileDescriptorProtos(files) } };
  return new ReflectionService(definition as unknown as protoLoader.PackageDefinition);
}

/**
 * Nest's gRPC transport plus what the contract asks of the server: grpc.health.v1.Health and
 * server reflection on the same port, a request context (request id, caller) around every
 * call so the auth guard and read-your-writes work as over HTTP, the bound port (GRPC_PORT=0
 * means any free port), and a bounded graceful drain on close.
 */
export class GrpcServer extends ServerGrpc {
  private readonly log = new Logger('Grpc');
  private readonly health: HealthImplementation;
  private readonly drainMs: number;
  private readonly keepalive: grpc.ServerOptions;
  private readonly serviceNames: string[];
  private bound?: number;
  private sink?: GrpcCallSink;
  /** Labels per method path, parsed once. */
  private readonly routes = new Map<string, RouteLabels>();

  constructor(opts: GrpcServerOptions) {
    const health = new HealthImplementation({
      '': 'SERVING',
      ...Object.fromEntries(opts.services.map((s) => [s, 'SERVING' as const])),
    });
    const options: GrpcOptions['options'] = {
      url: opts.url,
      package: opts.packages,
      protoPath: opts.protoPaths,
      loader: { ...PROTO_LOADER_OPTIONS, includeDirs: opts.includeDirs },
      gracefulShutdown: true,
      onLoadPackageDefinition: (_pkg, server) => {
        reflectionService(opts).addToServer(server);
        health.addToServer(server);
      },
    };
    super(options);
    this.health = health;
    this.drainMs = opts.drainMs;
    this.keepalive = {
      'grpc.keepalive_time_ms': opts.keepaliveMs ?? 30_000,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs ?? 10_000,
    };
    this.serviceNames = ['', ...opts.services];
  }

  /** The port the server listens on (after startAllMicroservices). */
  get port(): number | undefined {
    return this.bound;
  }

  /** Reports every finished call (status and duration) to `sink`; calls before this are not counted. */
  observeCalls(sink: GrpcCallSink): void {
    this.sink = sink;
  }

  override async createClient(): Promise<grpc.Server> {
    const server = new grpc.Server({ ...this.keepalive, interceptors: [this.callMetrics] });
    this.bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(this.url, grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.log.log(`gRPC listening on port ${this.bound}`);
    return server;
  }

  /** Every call runs in its own request context, like an HTTP request (see app.factory's onRequest hook). */
  override createServiceMethod(
    ...args: Parameters<ServerGrpc['createServiceMethod']>
  ): ReturnType<ServerGrpc['createServiceMethod']> {
    const method = super.createServiceMethod(...args) as (call: GrpcCallLike, callback?: unknown) => unknown;
    return (call: GrpcCallLike, callback?: unknown) => {
      const given = call.metadata?.get('x-request-id')[0]?.toString();
      const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
      return requestContext.run({ requestId }, () => method(call, callback));
    };
  }

  /**
   * Times every call on this server — ours, health and reflection; unary and streams — from
   * its arrival to the status sent (a cancelled call counts as CANCELLED, or DEADLINE_EXCEEDED
   * when its deadline passed). One wrapper object and two closures per call; nothing per message.
   */
  private readonly callMetrics: grpc.ServerInterceptor = (desc, call) => {
    const sink = this.sink;
    if (!sink) return new grpc.ServerInterceptingCall(call);
    const route = this.routes.get(desc.path) ?? this.route(desc);
    const started = performance.now();
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      const name = STATUS_NAMES[code] ?? String(code);
      sink.observeGrpc(route.service, route.method, name, route.type, (performance.now() - started) / 1000);
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onCancel: () => {
            const deadline = call.getDeadline();
            const expired = deadline !== Infinity && Date.now() >= new Date(deadline).getTime();
            finish(expired ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED);
          },
        }),
      sendStatus: (status, next) => {
        finish(status.code ?? grpc.status.UNKNOWN);
        next(status);
      },
    });
  };

  private route(desc: grpc.ServerMethodDefinition<unknown, unknown>): RouteLabels {
    // path: /<package>.<Service>/<Method>
    const slash = desc.path.lastIndexOf('/');
    const type: GrpcCallType = desc.requestStream
      ? desc.responseStream
        ? 'bidi_stream'
        : 'client_stream'
      : desc.responseStream
        ? 'server_stream'
        : 'unary';
    const route = { service: desc.path.slice(1, slash), method: desc.path.slice(slash + 1), type };
    this.routes.set(desc.path, route);
    return route;
  }

  /** Health turns NOT_SERVING, calls in flight get `drainMs` to finish, then the rest are cut. */
  override async close(): Promise<void> {
    const server = this.grpcClient as grpc.Server | undefined;
    if (!server) return;
    for (const s of this.serviceNames) this.health.setStatus(s, 'NOT_SERVING');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, this.drainMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.grpcClient = null as unknown as typeof this.grpcClient;
  }
}
