import * as grpc from '@grpc/grpc-js';
import Redis from 'ioredis';
import { RedisService } from '../../src/infra/redis/redis.service';
import { OrderWatchers } from '../../src/orders/testing';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { bearer, orderServiceClient } from '../support/grpc';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, uniqueSku } from './builders';

/**
 * WatchOrder streams are bounded (issue 20, docs/decisions/0018-order-limits.md): per user and
 * per connection on an instance, with an idle limit; and N streams of one order cost one read
 * per change, not N. Before this change a user could hold any number of streams, a stream never
 * ended while its order stayed pending, and each stream re-read the order on every event.
 */
type Client = ReturnType<typeof orderServiceClient>;
/** A client on a connection of its own (as a different process would have). */
const ownConnection = (t: TestApp): Client =>
  orderServiceClient(t.grpcUrl, { 'grpc.use_local_subchannel_pool': 1 });

interface Stream {
  call: grpc.ClientReadableStream<{ status: string }>;
  seen: string[];
  /** Settles with 'end' or the error code. */
  ended: Promise<string>;
  /** Resolves once the first message arrived. */
  first: Promise<void>;
}

function watch(client: Client, orderId: string, token: string): Stream {
  const call = client.WatchOrder({ id: orderId }, bearer(token)) as Stream['call'];
  const seen: string[] = [];
  let gotFirst!: () => void;
  const first = new Promise<void>((r) => (gotFirst = r));
  const ended = new Promise<string>((resolve) => {
    call.on('data', (m) => {
      seen.push(m.status);
      gotFirst();
    });
    call.on('end', () => resolve('end'));
    call.on('error', (e: grpc.ServiceError) =>
      resolve(`${grpc.status[e.code]} ${e.metadata?.get('error-code')[0] ?? ''}`.trim()),
    );
  });
  return { call, seen, ended, first };
}

async function metric(t: TestApp, name: string): Promise<number> {
  const text = (await http('GET', `${t.url}/metrics`)).body as string;
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not on /metrics`);
  return Number(m[1]);
}

describe('WatchOrder: bounded streams and one read per change', () => {
  let t: TestApp;
  let admin: string;
  let sku: string;
  const clients: Client[] = [];
  const client = (c: Client) => (clients.push(c), c);
  beforeAll(async () => {
    t = await startApp({ ORDER_WATCH_MAX_PER_USER: '3', ORDER_WATCH_MAX_PER_CONNECTION: '4' });
    admin = await adminToken(t);
    sku = uniqueSku('WATCH');
    await createProduct(t, admin, [{ sku, price: 500, stockOnHand: 1000 }]);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await t?.close();
  });

  const order = async (u: RegisteredUser): Promise<string> =>
    (await placeOrder(t, u.accessToken, [{ sku, quantity: 1 }])).body.id as string;

  it('per user: a 4th open stream (cap 3, each on its own connection) is RESOURCE_EXHAUSTED WATCH_LIMIT; closing one frees a slot; another user is not limited', async () => {
    const [mallory, alice] = await Promise.all([registerUser(t), registerUser(t)]);
    const id = await order(mallory);
    const open = [1, 2, 3].map(() => watch(client(ownConnection(t)), id, mallory.accessToken));
    await Promise.all(open.map((s) => s.first));
    const over = watch(client(ownConnection(t)), id, mallory.accessToken);
    expect(await over.ended).toBe('RESOURCE_EXHAUSTED WATCH_LIMIT');
    expect(over.seen).toEqual([]);
    // Alice is not affected by mallory's streams.
    const aliceOrder = await order(alice);
    const hers = watch(client(ownConnection(t)), aliceOrder, alice.accessToken);
    await hers.first;
    // Mallory closes one of hers: the server lets go of it, and she may open another.
    open[0].call.cancel();
    await open[0].ended;
    await eventually(async () => t.app.get(OrderWatchers).watching(id) === 2);
    const again = watch(client(ownConnection(t)), id, mallory.accessToken);
    await again.first;
    expect(again.seen).toEqual(['ORDER_STATUS_PENDING_PAYMENT']);
    for (const s of [...open.slice(1), hers, again]) s.call.cancel();
  });

  it('per connection: a 5th stream on one connection (cap 4, two users) is RESOURCE_EXHAUSTED; a new connection is not', async () => {
    const users = await Promise.all([registerUser(t), registerUser(t)]);
    const ids = await Promise.all(users.map(order));
    const shared = client(ownConnection(t));
    const open = [0, 0, 1, 1].map((u) => watch(shared, ids[u], users[u].accessToken));
    await Promise.all(open.map((s) => s.first));
    const third = await registerUser(t);
    const thirdOrder = await order(third);
    const over = watch(shared, thirdOrder, third.accessToken);
    expect(await over.ended).toBe('RESOURCE_EXHAUSTED WATCH_LIMIT');
    const elsewhere = watch(client(ownConnection(t)), thirdOrder, third.accessToken);
    await elsewhere.first;
    for (const s of [...open, elsewhere]) s.call.cancel();
  });

  it('20 streams of one order: the cancel costs one read of the order, not 20 (shop_order_watch_reads_total)', async () => {
    const users = await Promise.all(Array.from({ length: 7 }, () => registerUser(t)));
    const owner = users[0];
    // The order's own change broadcasts, seen from outside (to know what the instance received).
    const redis = t.app.get(RedisService);
    const sub = new Redis(t.config.redis.url, { lazyConnect: true });
    const broadcasts: string[] = [];
    await sub.connect();
    await sub.subscribe(redis.key('ch', 'orders:changed'));
    let id = '';
    sub.on('message', (_ch, ids: string) => broadcasts.push(...ids.split(',')));
    try {
      id = await order(owner);
      const ofOrder = () => broadcasts.filter((b) => b === id).length;
      // order.created is broadcast once the outbox relayed it: wait for it, so it is not counted below.
      await eventually(async () => ofOrder() >= 1, 15000);
      // 20 streams of the owner's order, over 7 connections (the per-user cap is 3 here: one
      // owner, so they are opened by an app whose cap allows it).
      const wide = await startApp({ ORDER_WATCH_MAX_PER_USER: '50', ORDER_WATCH_MAX_PER_CONNECTION: '50' });
      try {
        const conns = Array.from({ length: 7 }, () => client(ownConnection(wide)));
        const streams = Array.from({ length: 20 }, (_, i) => watch(conns[i % 7], id, owner.accessToken));
        await Promise.all(streams.map((s) => s.first));
        const before = await metric(wide, 'shop_order_watch_reads_total');
        const seenBefore = ofOrder();
        expect(
          (await http('POST', wide.api(`/orders/${id}/cancel`), { token: owner.accessToken })).status,
        ).toBe(200);
        const ends = await Promise.all(streams.map((s) => s.ended));
        expect(new Set(ends)).toEqual(new Set(['end']));
        for (const s of streams)
          expect(s.seen).toEqual(['ORDER_STATUS_PENDING_PAYMENT', 'ORDER_STATUS_CANCELLED']);
        const reads = (await metric(wide, 'shop_order_watch_reads_total')) - before;
        const changes = ofOrder() - seenBefore;
        // One cancel = one broadcast (a duplicate delivery would be a second): one read each at most.
        expect(changes).toBeGreaterThanOrEqual(1);
        expect(reads).toBeGreaterThanOrEqual(1);
        expect(reads).toBeLessThanOrEqual(changes);
        expect(reads).toBeLessThan(streams.length);
        console.log(
          `20 streams of one order, 1 cancel: ${changes} broadcast(s), ${reads} read(s) of the order`,
        );
      } finally {
        await wide.close();
      }
    } finally {
      sub.disconnect();
    }
  });

  it('a stream idle for ORDER_WATCH_IDLE_SECONDS ends (OK) on a pending order, and the server lets go of it', async () => {
    const idle = await startApp({ ORDER_WATCH_IDLE_SECONDS: '1' });
    try {
      const u = await registerUser(idle);
      const id = (await placeOrder(idle, u.accessToken, [{ sku, quantity: 1 }])).body.id as string;
      const s = watch(client(ownConnection(idle)), id, u.accessToken);
      await s.first;
      const t0 = Date.now();
      expect(await s.ended).toBe('end');
      // ended by the idle limit (1 s), with generous slack on a shared machine
      expect(Date.now() - t0).toBeLessThan(15000);
      expect(s.seen).toEqual(['ORDER_STATUS_PENDING_PAYMENT']);
      await eventually(async () => idle.app.get(OrderWatchers).watching(id) === 0);
      // The order is still pending: the client may simply watch again.
      const again = watch(client(ownConnection(idle)), id, u.accessToken);
      await again.first;
      again.call.cancel();
    } finally {
      await idle.close();
    }
  });
});
