import { status } from '@grpc/grpc-js';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { bearer, healthClient, listServices, orderServiceClient, rpcError, unary } from '../support/grpc';
import { OrderWatchers } from '../../src/orders/testing';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, uniqueSku } from './builders';

describe('gRPC shop.orders.v1.OrderService with a plain @grpc/grpc-js client', () => {
  let t: TestApp;
  let client: ReturnType<typeof orderServiceClient>;
  let alice: RegisteredUser;
  let bob: RegisteredUser;
  let sku: string;
  beforeAll(async () => {
    t = await startApp();
    client = orderServiceClient(t.grpcUrl);
    const admin = await adminToken(t);
    [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
    sku = uniqueSku('GRPC');
    await createProduct(t, admin, [{ sku, price: 750, stockOnHand: 10 }]);
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('CreateOrder prices from the catalog and returns the contract Order (snake_case, enum names, int64 money, Timestamp)', async () => {
    const order = await unary(client, 'CreateOrder', { items: [{ sku, quantity: 2 }] }, alice.accessToken);
    expect(order).toMatchObject({
      id: expect.any(String),
      user_id: alice.user.id,
      status: 'ORDER_STATUS_PENDING_PAYMENT',
      items: [{ sku, quantity: 2, unit_price: { currency_code: 'EUR', amount_minor: 750 } }],
      total: { currency_code: 'EUR', amount_minor: 1500 },
    });
    expect(Number(order.created_at.seconds)).toBeGreaterThan(Date.now() / 1000 - 60);
    // The same order over REST.
    const rest = await http('GET', t.api(`/orders/${order.id}`), { token: alice.accessToken });
    expect(rest.body.total).toEqual({ amount: 1500, currency: 'EUR' });
  });

  it('CreateOrder honours idempotency_key: a replay returns the same order, other items are INVALID_ARGUMENT', async () => {
    const key = `g-${Date.now()}`;
    const first = await unary(
      client,
      'CreateOrder',
      { items: [{ sku, quantity: 1 }], idempotency_key: key },
      alice.accessToken,
    );
    const again = await unary(
      client,
      'CreateOrder',
      { items: [{ sku, quantity: 1 }], idempotency_key: key },
      alice.accessToken,
    );
    expect(again.id).toBe(first.id);
    const err = await rpcError(
      unary(
        client,
        'CreateOrder',
        { items: [{ sku, quantity: 3 }], idempotency_key: key },
        alice.accessToken,
      ),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('error-code')).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it('GetOrder, ListOrders (paged with page_token) and CancelOrder', async () => {
    const carol = await registerUser(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await unary(client, 'CreateOrder', { items: [{ sku, quantity: 1 }] }, carol.accessToken)).id);
    const got = await unary(client, 'GetOrder', { id: ids[0] }, carol.accessToken);
    expect(got.id).toBe(ids[0]);
    const p1 = await unary(client, 'ListOrders', { page_size: 2 }, carol.accessToken);
    expect(p1.orders.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]]);
    expect(p1.next_page_token).not.toBe('');
    const p2 = await unary(
      client,
      'ListOrders',
      { page_size: 2, page_token: p1.next_page_token },
      carol.accessToken,
    );
    expect(p2.orders.map((o: { id: string }) => o.id)).toEqual([ids[0]]);
    expect(p2.next_page_token).toBe('');
    const cancelled = await unary(client, 'CancelOrder', { id: ids[0] }, carol.accessToken);
    expect(cancelled.status).toBe('ORDER_STATUS_CANCELLED');
  });

  it('ListOrders: INVALID_ARGUMENT for a page_token it never issued and for a negative page_size (AIP-158)', async () => {
    const user = await registerUser(t);
    await placeOrder(t, user.accessToken, [{ sku, quantity: 1 }]);
    const forged = Buffer.from(`${Date.now()}.not-an-order-id`).toString('base64url');
    for (const req of [
      { page_token: '!!!notbase64' },
      { page_token: 'bm90IGEgY3Vyc29y' }, // base64 of "not a cursor"
      { page_token: forged },
      { page_size: -1 },
      { page_size: -2147483648 },
    ]) {
      const err = await rpcError(unary(client, 'ListOrders', req, user.accessToken));
      expect({ req, code: err.code }).toEqual({ req, code: status.INVALID_ARGUMENT });
    }
    // The token it issued still pages.
    const page = await unary(client, 'ListOrders', { page_size: 1 }, user.accessToken);
    expect(page.orders).toHaveLength(1);
  });

  it('UNAUTHENTICATED without a token and with an invalid one', async () => {
    const none = await rpcError(unary(client, 'ListOrders', {}));
    expect(none.code).toBe(status.UNAUTHENTICATED);
    const bad = await rpcError(unary(client, 'ListOrders', {}, 'not.a.jwt'));
    expect(bad.code).toBe(status.UNAUTHENTICATED);
  });

  it('INVALID_ARGUMENT for bad input (no items, quantity 0, malformed id)', async () => {
    for (const req of [
      { items: [] },
      { items: [{ sku, quantity: 0 }] },
      { items: [{ sku: '', quantity: 1 }] },
    ]) {
      const err = await rpcError(unary(client, 'CreateOrder', req, alice.accessToken));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
    }
    expect((await rpcError(unary(client, 'GetOrder', { id: 'nope' }, alice.accessToken))).code).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  it("NOT_FOUND for an unknown order and for another user's order", async () => {
    const mine = await unary(client, 'CreateOrder', { items: [{ sku, quantity: 1 }] }, alice.accessToken);
    expect((await rpcError(unary(client, 'GetOrder', { id: mine.id }, bob.accessToken))).code).toBe(
      status.NOT_FOUND,
    );
    expect((await rpcError(unary(client, 'CancelOrder', { id: mine.id }, bob.accessToken))).code).toBe(
      status.NOT_FOUND,
    );
    expect(
      (
        await rpcError(
          unary(client, 'GetOrder', { id: '00000000-0000-7000-8000-000000000000' }, alice.accessToken),
        )
      ).code,
    ).toBe(status.NOT_FOUND);
  });

  it('FAILED_PRECONDITION for insufficient stock and for an illegal transition', async () => {
    const short = await rpcError(
      unary(client, 'CreateOrder', { items: [{ sku, quantity: 999 }] }, alice.accessToken),
    );
    expect(short.code).toBe(status.FAILED_PRECONDITION);
    expect(short.metadata.get('error-code')).toEqual(['INSUFFICIENT_STOCK']);
    const o = await unary(client, 'CreateOrder', { items: [{ sku, quantity: 1 }] }, alice.accessToken);
    await unary(client, 'CancelOrder', { id: o.id }, alice.accessToken);
    const again = await rpcError(unary(client, 'CancelOrder', { id: o.id }, alice.accessToken));
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(again.metadata.get('error-code')).toEqual(['ILLEGAL_TRANSITION']);
  });

  it('honours deadlines: a WatchOrder past its deadline ends with DEADLINE_EXCEEDED and the server lets go of it', async () => {
    const o = await placeOrder(t, alice.accessToken, [{ sku, quantity: 1 }]);
    const watchers = t.app.get(OrderWatchers);
    const err = await new Promise<{ code: number }>((resolve) => {
      const call = client.WatchOrder({ id: o.body.id }, bearer(alice.accessToken), {
        deadline: new Date(Date.now() + 500),
      });
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    await eventually(async () => watchers.watching(o.body.id) === 0, 3000);
  });

  it('WatchOrder streams the order, then the status change made over REST on another instance, then ends', async () => {
    const other = await startApp();
    const o = await placeOrder(other, alice.accessToken, [{ sku, quantity: 1 }]);
    const call = client.WatchOrder({ id: o.body.id }, bearer(alice.accessToken));
    const seen: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: { status: string }) => {
        seen.push(m.status);
        if (seen.length === 1)
          http('POST', other.api(`/orders/${o.body.id}/cancel`), { token: alice.accessToken }).catch(reject);
      });
      call.on('end', resolve);
      call.on('error', reject);
    });
    await done.finally(() => other.close());
    expect(seen).toEqual(['ORDER_STATUS_PENDING_PAYMENT', 'ORDER_STATUS_CANCELLED']);
  });

  it("WatchOrder of another user's order fails with NOT_FOUND", async () => {
    const o = await placeOrder(t, alice.accessToken, [{ sku, quantity: 1 }]);
    const err = await new Promise<{ code: number }>((resolve) => {
      const call = client.WatchOrder({ id: o.body.id }, bearer(bob.accessToken));
      call.on('data', () => undefined);
      call.on('error', resolve);
    });
    expect(err.code).toBe(status.NOT_FOUND);
  });

  it('answers grpc.health.v1 Check with SERVING and lists OrderService through reflection', async () => {
    const health = healthClient(t.grpcUrl);
    const res = await new Promise<{ status: string }>((resolve, reject) =>
      health.Check({ service: '' }, (err: Error | null, r: { status: string }) =>
        err ? reject(err) : resolve(r),
      ),
    );
    expect(res.status).toBe('SERVING');
    const svc = await new Promise<{ status: string }>((resolve, reject) =>
      health.Check({ service: 'shop.orders.v1.OrderService' }, (err: Error | null, r: { status: string }) =>
        err ? reject(err) : resolve(r),
      ),
    );
    expect(svc.status).toBe('SERVING');
    health.close();
    expect(await listServices(t.grpcUrl)).toEqual(expect.arrayContaining(['shop.orders.v1.OrderService']));
  });

  it('shuts down gracefully: open WatchOrder streams end cleanly and close() returns within the drain bound', async () => {
    const other = await startApp();
    const c = orderServiceClient(other.grpcUrl);
    const o = await placeOrder(other, alice.accessToken, [{ sku, quantity: 1 }]);
    const ended = new Promise<string>((resolve) => {
      const call = c.WatchOrder({ id: o.body.id }, bearer(alice.accessToken));
      call.on('data', () => undefined);
      call.on('end', () => resolve('end'));
      call.on('error', (e: { code: number }) => resolve(`error ${e.code}`));
    });
    await eventually(async () => other.app.get(OrderWatchers).watching(o.body.id) === 1);
    const t0 = Date.now();
    await other.close();
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(await ended).toBe('end');
    c.close();
  });
});
