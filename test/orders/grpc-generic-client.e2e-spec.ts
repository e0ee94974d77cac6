import * as descriptor from 'protobufjs/ext/descriptor';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { buf, jsonDocuments, startBuf } from '../support/buf';
import { TestApp, eventually, startApp } from '../support/test-app';
import { createProduct, uniqueSku } from './builders';

/**
 * The contract promises that generic gRPC tools work with no .proto files in hand. `buf curl`
 * (the prebuilt binary of the @bufbuild/buf package, nobody here wrote it) builds its schema from
 * server reflection alone and links the descriptors it receives, as grpcurl, Postman and Kreya do:
 * a file under a made-up name, or one that uses google.protobuf.Timestamp without declaring the
 * import, makes every call fail with `failed to find service named ... in schema`.
 */
describe('gRPC with a generic client (buf curl) from server reflection alone', () => {
  let t: TestApp;
  let base: string;
  let alice: RegisteredUser;
  let sku: string;
  const SERVICES = [
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection',
    'shop.orders.v1.OrderService',
    'shop.payments.v1.PaymentService',
  ];

  /** `buf curl` over gRPC (HTTP/2 without TLS), schema from reflection (its default). */
  const curl = (args: string[], stdin?: string) =>
    buf(['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args], { stdin });
  const call = (method: string, body: unknown, token?: string) =>
    curl([
      ...(token ? ['-H', `authorization: Bearer ${token}`] : []),
      '-d',
      JSON.stringify(body),
      `${base}/${method}`,
    ]);

  beforeAll(async () => {
    t = await startApp();
    base = `http://${t.grpcUrl}`;
    const admin = await adminToken(t);
    alice = await registerUser(t);
    sku = uniqueSku('BUF');
    await createProduct(t, admin, [{ sku, price: 750, stockOnHand: 10 }]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('--list-services names every service on the port, over reflection v1 and v1alpha', async () => {
    for (const protocol of ['grpc-v1', 'grpc-v1alpha']) {
      const res = await curl(['--list-services', '--reflect-protocol', protocol, base]);
      expect(res).toMatchObject({ code: 0, stderr: '' });
      expect(res.stdout.trim().split('\n').sort()).toEqual(SERVICES);
    }
  });

  it('--list-methods links every file (orders, payments, health, reflection) and lists their methods', async () => {
    const res = await curl(['--list-methods', base]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout.trim().split('\n')).toEqual(
      expect.arrayContaining([
        'shop.orders.v1.OrderService/CreateOrder',
        'shop.orders.v1.OrderService/GetOrder',
        'shop.orders.v1.OrderService/ListOrders',
        'shop.orders.v1.OrderService/CancelOrder',
        'shop.orders.v1.OrderService/WatchOrder',
        'shop.payments.v1.PaymentService/CreatePayment',
        'shop.payments.v1.PaymentService/GetPayment',
        'grpc.health.v1.Health/Check',
        'grpc.health.v1.Health/Watch',
        'grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        'grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
      ]),
    );
  });

  it('describes a service as protoc would: the repository file names, their imports, fully qualified types', async () => {
    // The reflection stream itself, driven by buf curl from reflection (what `grpcurl describe` asks).
    const requests = [
      'shop.orders.v1.OrderService',
      'shop.payments.v1.PaymentService',
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ].map((symbol) => JSON.stringify({ fileContainingSymbol: symbol }));
    requests.push(JSON.stringify({ fileByFilename: 'google/protobuf/timestamp.proto' }));
    const res = await curl(
      ['-d', '@-', `${base}/grpc.reflection.v1.ServerReflection/ServerReflectionInfo`],
      requests.join('\n'),
    );
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const answers = jsonDocuments(res.stdout).map((doc) =>
      (doc.fileDescriptorResponse.fileDescriptorProto as string[]).map((b64) =>
        descriptor.FileDescriptorProto.toObject(
          descriptor.FileDescriptorProto.decode(Buffer.from(b64, 'base64')),
          {
            defaults: false,
          },
        ),
      ),
    );
    const summary = answers.map((files) =>
      files.map((f) => `${f.name} <- [${(f.dependency ?? []).join(', ')}]`),
    );
    expect(summary).toEqual([
      [
        'shop/orders/v1/orders.proto <- [google/protobuf/timestamp.proto]',
        'google/protobuf/timestamp.proto <- []',
      ],
      [
        'shop/payments/v1/payments.proto <- [google/protobuf/timestamp.proto]',
        'google/protobuf/timestamp.proto <- []',
      ],
      ['grpc/health/v1/health.proto <- []'],
      ['grpc/reflection/v1/reflection.proto <- []'],
      ['grpc/reflection/v1alpha/reflection.proto <- []'],
      ['google/protobuf/timestamp.proto <- []'],
    ]);

    const orders = answers[0][0];
    expect(orders.package).toBe('shop.orders.v1');
    expect(orders.syntax).toBe('proto3');
    const methods = orders.service[0].method.map(
      (m: any) => `${m.name}(${m.inputType}) -> ${m.serverStreaming ? 'stream ' : ''}${m.outputType}`,
    );
    expect(methods).toEqual([
      'CreateOrder(.shop.orders.v1.CreateOrderRequest) -> .shop.orders.v1.Order',
      'GetOrder(.shop.orders.v1.GetOrderRequest) -> .shop.orders.v1.Order',
      'ListOrders(.shop.orders.v1.ListOrdersRequest) -> .shop.orders.v1.ListOrdersResponse',
      'CancelOrder(.shop.orders.v1.CancelOrderRequest) -> .shop.orders.v1.Order',
      'WatchOrder(.shop.orders.v1.WatchOrderRequest) -> stream .shop.orders.v1.Order',
    ]);
    const order = orders.messageType.find((m: any) => m.name === 'Order');
    expect(order.field.map((f: any) => `${f.number} ${f.name} ${f.typeName ?? f.type}`)).toEqual([
      '1 id 9',
      '2 user_id 9',
      '3 status .shop.orders.v1.OrderStatus',
      '4 items .shop.orders.v1.OrderItem',
      '5 total .shop.orders.v1.Money',
      '6 created_at .google.protobuf.Timestamp',
      // The checkout fields (issue 23), added with new numbers only.
      '7 breakdown .shop.orders.v1.PriceBreakdown',
      '8 shipping_address .shop.orders.v1.Address',
      '9 shipping_method 9',
      '10 coupon_code 9',
      '11 awaiting_address 8',
      '12 tax_country 9',
    ]);
  });

  it('grpc.health.v1.Health/Check answers SERVING for the server and for OrderService', async () => {
    const all = await call('grpc.health.v1.Health/Check', {});
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({ status: 'SERVING' });
    const orders = await call('grpc.health.v1.Health/Check', { service: 'shop.orders.v1.OrderService' });
    expect(JSON.parse(orders.stdout)).toEqual({ status: 'SERVING' });
  });

  it('CreateOrder, GetOrder and ListOrders with a bearer token return the contract Order', async () => {
    const created = await call(
      'shop.orders.v1.OrderService/CreateOrder',
      { items: [{ sku, quantity: 2 }], idempotency_key: `buf-${sku}` },
      alice.accessToken,
    );
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const order = JSON.parse(created.stdout);
    // Proto3 JSON: lowerCamelCase names, int64 as a string, Timestamp as RFC 3339.
    expect(order).toMatchObject({
      id: expect.any(String),
      userId: alice.user.id,
      status: 'ORDER_STATUS_PENDING_PAYMENT',
      items: [{ sku, quantity: 2, unitPrice: { currencyCode: 'EUR', amountMinor: '750' } }],
      total: { currencyCode: 'EUR', amountMinor: '1500' },
    });
    expect(Date.parse(order.createdAt)).toBeGreaterThan(Date.now() - 10 * 60_000);

    const got = await call('shop.orders.v1.OrderService/GetOrder', { id: order.id }, alice.accessToken);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual(order);

    const list = await call('shop.orders.v1.OrderService/ListOrders', { page_size: 5 }, alice.accessToken);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).orders.map((o: { id: string }) => o.id)).toContain(order.id);
  });

  it('a call without a token, or with a forged one, fails UNAUTHENTICATED (buf curl exits with 16 << 3)', async () => {
    for (const token of [undefined, 'not-a-jwt']) {
      const res = await call('shop.orders.v1.OrderService/ListOrders', {}, token);
      expect(res.code).toBe(16 << 3);
      expect(res.stdout).toBe('');
      expect(JSON.parse(res.stderr)).toMatchObject({ code: 'unauthenticated' });
    }
  });

  it('WatchOrder streams the order now, then again when it is cancelled, and ends', async () => {
    const created = await call(
      'shop.orders.v1.OrderService/CreateOrder',
      { items: [{ sku, quantity: 1 }] },
      alice.accessToken,
    );
    const { id } = JSON.parse(created.stdout);
    const watch = startBuf(
      [
        'curl',
        '--protocol',
        'grpc',
        '--http2-prior-knowledge',
        '-H',
        `authorization: Bearer ${alice.accessToken}`,
        '-d',
        JSON.stringify({ id }),
        `${base}/shop.orders.v1.OrderService/WatchOrder`,
      ],
      { timeoutMs: 60_000 },
    );
    const first = await eventually(async () => jsonDocuments(watch.stdout())[0], 30_000);
    expect(first).toMatchObject({ id, status: 'ORDER_STATUS_PENDING_PAYMENT' });

    const cancelled = await call('shop.orders.v1.OrderService/CancelOrder', { id }, alice.accessToken);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id, status: 'ORDER_STATUS_CANCELLED' });

    // CANCELLED is final: the server ends the stream and buf curl exits 0.
    const res = await watch.done;
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(jsonDocuments(res.stdout).map((o) => o.status)).toEqual([
      'ORDER_STATUS_PENDING_PAYMENT',
      'ORDER_STATUS_CANCELLED',
    ]);
  });
});
