import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { dirname, join } from 'node:path';
import { PROTO_LOADER_OPTIONS } from '../../src/infra/grpc/grpc-server';
import { ORDERS_GRPC } from '../../src/orders';

/**
 * A plain @grpc/grpc-js client, as an outside caller would build it from the .proto. Clients of
 * one process share their connections unless `options` say otherwise (e.g.
 * `{ 'grpc.use_local_subchannel_pool': 1 }`: a connection of its own, as another process has).
 */
export function orderServiceClient(
  url: string,
  options: grpc.ChannelOptions = {},
): grpc.Client & Record<string, any> {
  const def = protoLoader.loadSync(ORDERS_GRPC.protoPath, {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [ORDERS_GRPC.includeDir],
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return new pkg.shop.orders.v1.OrderService(url, grpc.credentials.createInsecure(), options);
}

export function bearer(token?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Calls a unary rpc; resolves with the response or rejects with the ServiceError. */
export function unary<T = any>(
  client: Record<string, any>,
  method: string,
  req: unknown,
  token?: string,
  opts: grpc.CallOptions = {},
): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](req, bearer(token), opts, (err: grpc.ServiceError | null, res: T) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

/** The error a call fails with (fails the test if it succeeds). */
export async function rpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail');
}

export function healthClient(url: string): Record<string, any> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, PROTO_LOADER_OPTIONS)) as any;
  return new pkg.grpc.health.v1.Health(url, grpc.credentials.createInsecure());
}

/** Lists services through server reflection (grpc.reflection.v1), as grpcurl does. */
export function listServices(url: string): Promise<string[]> {
  const file = join(
    dirname(require.resolve('@grpc/reflection')),
    '..',
    'proto/grpc/reflection/v1/reflection.proto',
  );
  const def = protoLoader.loadSync(file, PROTO_LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.grpc.reflection.v1.ServerReflection(url, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (res: any) => {
      resolve(res.list_services_response.service.map((s: { name: string }) => s.name));
      call.end();
      client.close();
    });
    call.on('error', (err: Error) => {
      client.close();
      reject(err);
    });
    call.write({ list_services: '' });
  });
}
