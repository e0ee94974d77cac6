/**
 * Calling shop.orders.v1.OrderService from a plain @grpc/grpc-js client (no Nest):
 * log in over HTTP for a token, create an order over gRPC, then watch it until its status is final.
 *
 *   npx ts-node --transpile-only scripts/grpc-client-example.ts \
 *     --http http://localhost:3000 --grpc localhost:50051 \
 *     --email admin@shop.local --password admin-password-change-me --sku TSHIRT-M --quantity 1
 *
 * Cancel the order meanwhile (POST /api/v1/orders/<id>/cancel) to see the stream move and end.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    http: { type: 'string', default: 'http://localhost:3000' },
    grpc: { type: 'string', default: 'localhost:50051' },
    email: { type: 'string', default: 'admin@shop.local' },
    password: { type: 'string', default: 'admin-password-change-me' },
    sku: { type: 'string', default: 'TSHIRT-M' },
    quantity: { type: 'string', default: '1' },
  },
});

async function main(): Promise<void> {
  // 1. A bearer token from the REST API.
  const res = await fetch(`${args.http}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: args.email, password: args.password }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const { accessToken } = (await res.json()) as { accessToken: string };

  // 2. The client, from the .proto in the repository (keepCase: fields as written in the .proto).
  const def = protoLoader.loadSync('shop/orders/v1/orders.proto', {
    includeDirs: [join(__dirname, '..', 'src', 'orders', 'proto')],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.shop.orders.v1.OrderService(args.grpc, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${accessToken}`);

  // 3. CreateOrder (unary, 5 s deadline).
  const order = await new Promise<{ id: string; status: string; total: unknown }>((resolve, reject) =>
    client.CreateOrder(
      {
        items: [{ sku: args.sku, quantity: Number(args.quantity) }],
        idempotency_key: `example-${Date.now()}`,
      },
      metadata,
      { deadline: new Date(Date.now() + 5000) },
      (err: grpc.ServiceError | null, o: { id: string; status: string; total: unknown }) =>
        err ? reject(err) : resolve(o),
    ),
  );
  console.log('created', order.id, order.status, order.total);

  // 4. WatchOrder (server stream): the order now, then each status change, ending on a final one.
  const stream = client.WatchOrder({ id: order.id }, metadata);
  stream.on('data', (o: { status: string }) => console.log('status', o.status));
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', (err: grpc.ServiceError) =>
      err.code === grpc.status.CANCELLED ? resolve() : reject(err),
    );
    process.once('SIGINT', () => stream.cancel());
  });
  client.close();
}

main().catch((err: grpc.ServiceError | Error) => {
  const code = (err as grpc.ServiceError).code;
  console.error(code !== undefined ? `${grpc.status[code]}: ${err.message}` : err.message);
  process.exit(1);
});
