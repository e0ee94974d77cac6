import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { connect } from 'node:http2';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { PROTO_LOADER_OPTIONS } from '../../src/infra/grpc/grpc-server';
import { PAYMENTS_GRPC } from '../../src/payments';
import { RegisteredUser, adminToken, registerUser } from '../support/auth';
import { listServices, rpcError, unary } from '../support/grpc';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createSku, deliver, eventFor, placeOrder } from './support';

/** A plain @grpc/grpc-js client built from the shipped .proto, as an outside caller would. */
function paymentServiceClient(url: string): grpc.Client & Record<string, any> {
  const def = protoLoader.loadSync(PAYMENTS_GRPC.protoPath, {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [PAYMENTS_GRPC.includeDir],
  });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return new pkg.shop.payments.v1.PaymentService(url, grpc.credentials.createInsecure());
}

/**
 * One unary call over a bare HTTP/2 client (node:http2), so the test chooses the `grpc-timeout`
 * header itself — a @grpc/grpc-js client fails a call whose deadline passed without sending it.
 */
function rawUnary(
  url: string,
  method: string,
  request: object,
  token: string,
  timeout: string,
): Promise<{ status: number; message: string }> {
  const def = protoLoader.loadSync(PAYMENTS_GRPC.protoPath, {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [PAYMENTS_GRPC.includeDir],
  });
  const rpc = (def[PAYMENTS_GRPC.service] as protoLoader.ServiceDefinition)[method];
  const body = rpc.requestSerialize(request);
  const frame = Buffer.alloc(5 + body.length); // uncompressed flag, length, message
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return new Promise((resolve, reject) => {
    const session = connect(`http://${url}`);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': rpc.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': timeout,
      authorization: `Bearer ${token}`,
    });
    let status: number | undefined;
    let message = '';
    const read = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
      if (typeof h['grpc-message'] === 'string') message = decodeURIComponent(h['grpc-message']);
    };
    req.on('response', read);
    req.on('trailers', read);
    req.on('data', () => undefined);
    req.on('error', (err) => {
      session.close();
      reject(err);
    });
    req.on('end', () => {
      session.close();
      if (status === undefined) reject(new Error(`${method}: no grpc-status`));
      else resolve({ status, message });
    });
    req.end(frame); // HEADERS and the whole message leave together
  });
}

describe('gRPC shop.payments.v1.PaymentService', () => {
  let t: TestApp;
  let client: ReturnType<typeof paymentServiceClient>;
  let admin: string;
  let buyer: RegisteredUser;
  let other: RegisteredUser;
  beforeAll(async () => {
    t = await startApp();
    client = paymentServiceClient(t.grpcUrl);
    admin = await adminToken(t);
    buyer = await registerUser(t);
    other = await registerUser(t);
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('creates (idempotently) and gets a payment with the same rules as REST', async () => {
    const sku = await createSku(t, admin, 5, 1234);
    const order = await placeOrder(t, buyer.accessToken, sku, 2);
    const created = await unary(client, 'CreatePayment', { order_id: order.id }, buyer.accessToken);
    expect(created).toEqual(
      expect.objectContaining({
        order_id: order.id,
        user_id: buyer.user.id,
        status: 'PAYMENT_STATUS_PENDING',
        amount: { currency_code: 'EUR', amount_minor: 2468 },
        provider: 'sandbox',
      }),
    );
    const again = await unary(client, 'CreatePayment', { order_id: order.id }, buyer.accessToken);
    expect(again.id).toBe(created.id);

    await deliver(t, eventFor({ id: created.id, orderId: order.id, amount: 2468, currency: 'EUR' }));
    const got = await unary(client, 'GetPayment', { id: created.id }, buyer.accessToken);
    expect(got.status).toBe('PAYMENT_STATUS_SUCCEEDED');

    const paidAgain = await rpcError(
      unary(client, 'CreatePayment', { order_id: order.id }, buyer.accessToken),
    );
    expect(paidAgain.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it('reports a payment cancelled with its order as PAYMENT_STATUS_CANCELLED', async () => {
    const sku = await createSku(t, admin, 5);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const p = await unary(client, 'CreatePayment', { order_id: order.id }, buyer.accessToken);
    expect(
      (await http('POST', t.api(`/orders/${order.id}/cancel`), { token: buyer.accessToken })).status,
    ).toBe(200);
    await eventually(
      async () =>
        (await unary(client, 'GetPayment', { id: p.id }, buyer.accessToken)).status ===
        'PAYMENT_STATUS_CANCELLED',
      15000,
    );
  });

  it("maps errors: no token UNAUTHENTICATED, bad id INVALID_ARGUMENT, another user's payment NOT_FOUND", async () => {
    const sku = await createSku(t, admin, 5);
    const order = await placeOrder(t, buyer.accessToken, sku, 1);
    const p = await unary(client, 'CreatePayment', { order_id: order.id }, buyer.accessToken);
    expect((await rpcError(unary(client, 'GetPayment', { id: p.id }))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    expect((await rpcError(unary(client, 'CreatePayment', { order_id: order.id }))).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    expect((await rpcError(unary(client, 'GetPayment', { id: 'nope' }, buyer.accessToken))).code).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
    expect((await rpcError(unary(client, 'GetPayment', { id: p.id }, other.accessToken))).code).toBe(
      grpc.status.NOT_FOUND,
    );
    expect(
      (await rpcError(unary(client, 'CreatePayment', { order_id: order.id }, other.accessToken))).code,
    ).toBe(grpc.status.NOT_FOUND);
  });

  it('starts nothing for a call whose deadline passed before its handler ran: DEADLINE_EXCEEDED and no payment', async () => {
    const sku = await createSku(t, admin, 5);
    const late = await placeOrder(t, buyer.accessToken, sku, 1);
    const control = await placeOrder(t, buyer.accessToken, sku, 1);
    const paymentsOf = async (orderId: string) =>
      (await t.app
        .get(DbRouter)
        .primaryReader()
        .query('SELECT id FROM payments WHERE order_id = ?', [orderId])) as { id: string }[];

    // grpc-timeout 1n (one nanosecond): the server's deadline is the moment the call arrived, so
    // it has passed when the handler runs — as for a call that waited behind a busy server.
    const dead = await rawUnary(t.grpcUrl, 'CreatePayment', { order_id: late.id }, buyer.accessToken, '1n');
    expect(grpc.status[dead.status]).toBe('DEADLINE_EXCEEDED');
    // The same call with time to spare goes through (the request itself is well formed).
    const alive = await rawUnary(
      t.grpcUrl,
      'CreatePayment',
      { order_id: control.id },
      buyer.accessToken,
      '10S',
    );
    expect(grpc.status[alive.status]).toBe('OK');
    expect(await paymentsOf(control.id)).toHaveLength(1);
    // A handler that had gone on would have written its row by now (the control call did all of
    // that work since); generous slack on a shared machine.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await paymentsOf(late.id)).toEqual([]);
  });

  it('is listed by server reflection beside OrderService', async () => {
    expect(await listServices(t.grpcUrl)).toEqual(
      expect.arrayContaining(['shop.orders.v1.OrderService', 'shop.payments.v1.PaymentService']),
    );
  });
});
