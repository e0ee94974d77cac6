import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { orderServiceClient, unary } from '../support/grpc';
import { TestApp, startApp } from '../support/test-app';
import { createProduct, stockOf, uniqueSku } from '../orders/builders';

/**
 * Fault 8 of issue 10: latency injected between a gRPC client and the server (a FaultProxy in
 * front of GRPC_PORT), a short client deadline. The call fails with DEADLINE_EXCEEDED although
 * the server, receiving it late, may still create the order; a retry with the same
 * idempotency key must return that order, never a second one.
 */
describe('fault: gRPC CreateOrder behind injected latency with a short deadline', () => {
  let t: TestApp;
  let proxy: FaultProxy;
  let client: ReturnType<typeof orderServiceClient>;
  let admin: string;
  let buyer: RegisteredUser;
  beforeAll(async () => {
    t = await startApp();
    proxy = new FaultProxy('127.0.0.1', Number(t.grpcUrl.split(':')[1]));
    await proxy.start();
    client = orderServiceClient(`127.0.0.1:${proxy.port}`);
    admin = await adminToken(t);
    buyer = await registerUser(t);
  });
  afterAll(async () => {
    client?.close();
    await proxy?.stop();
    await t?.close();
  });

  it('times out with DEADLINE_EXCEEDED, and retries with the same idempotency keys create each order once', async () => {
    const N = 10;
    const LATENCY_MS = 800;
    const DEADLINE_MS = 250;
    const sku = uniqueSku('DEADLINE');
    await createProduct(t, admin, [{ sku, price: 1500, stockOnHand: 100 }]);
    // The channel is connected first, so the latency delays the calls, not the handshake.
    await unary(client, 'ListOrders', { page_size: 1 }, buyer.accessToken);
    const keys = Array.from({ length: N }, (_, i) => `deadline-${randomBytes(4).toString('hex')}-${i}`);
    const create = (key: string, deadlineMs: number) =>
      unary(
        client,
        'CreateOrder',
        { items: [{ sku, quantity: 1 }], idempotency_key: key },
        buyer.accessToken,
        {
          deadline: Date.now() + deadlineMs,
        },
      ).then(
        (order: { id: string }) => ({ code: grpc.status.OK, order }),
        (err: grpc.ServiceError) => ({ code: err.code, order: undefined, err }),
      );

    await proxy.set('latency', LATENCY_MS);
    const first = await Promise.all(keys.map((k) => create(k, DEADLINE_MS)));
    expect(first.map((r) => grpc.status[r.code])).toEqual(Array(N).fill('DEADLINE_EXCEEDED'));
    // The late requests still reach the server; let them finish before counting.
    await new Promise((r) => setTimeout(r, LATENCY_MS * 2));
    const db = t.app.get(DbRouter);
    const countOrders = async () =>
      Number(
        (
          await db
            .primaryReader()
            .query('SELECT COUNT(*) AS n FROM orders WHERE user_id = ?', [buyer.user.id])
        )[0].n,
      );
    const createdByTimedOutCalls = await countOrders();

    await proxy.set('pass');
    const retried: string[] = [];
    let retries = 0;
    for (const key of keys) {
      for (;;) {
        retries++;
        const r = await create(key, 5000);
        if (r.code === grpc.status.OK) {
          retried.push(r.order!.id);
          break;
        }
        // The original call may still hold the key: the contract answers "in progress".
        expect(grpc.status[r.code]).toBe('FAILED_PRECONDITION');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    // A second retry of each key answers the same order again.
    const again = await Promise.all(keys.map((k) => create(k, 5000)));
    expect(again.map((r) => r.order?.id)).toEqual(retried);

    const found = await countOrders();
    console.log(
      `fault gRPC deadline: ${N} calls with a ${DEADLINE_MS} ms deadline behind ${LATENCY_MS} ms latency → ` +
        `${first.filter((r) => r.code === grpc.status.DEADLINE_EXCEEDED).length} DEADLINE_EXCEEDED, ` +
        `${createdByTimedOutCalls} orders created anyway by the server; ${retries} retries + ${N} replays; ` +
        `orders expected ${N}, found ${found}`,
    );
    expect(new Set(retried).size).toBe(N);
    expect(found).toBe(N);
    expect((await stockOf(t, admin, sku)).reserved).toBe(N);
  });
});
