import { DbRouter } from '../../src/infra/database/db-router.service';
import { ORDER_EVENTS, OrderEvent, OrderEventsBus } from '../../src/orders';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { FaultProxy } from '../support/fault-proxy';
import { TestApp, eventually, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, uniqueSku } from './builders';

describe('orders: events through the transactional outbox', () => {
  let t: TestApp;
  let proxy: FaultProxy;
  let user: RegisteredUser;
  let sku: string;
  const seen: OrderEvent[] = [];
  beforeAll(async () => {
    const redis = new URL(process.env.REDIS_URL!);
    proxy = new FaultProxy(redis.hostname, Number(redis.port || 6379));
    await proxy.start();
    redis.port = String(proxy.port);
    t = await startApp({ REDIS_URL: redis.toString() });
    const bus = t.app.get(OrderEventsBus);
    for (const type of Object.values(ORDER_EVENTS)) bus.on(type, (e) => void seen.push(e));
    user = await registerUser(t);
    sku = uniqueSku('OBX');
    await createProduct(t, await adminToken(t), [{ sku, price: 500, stockOnHand: 10 }]);
  });
  afterAll(async () => {
    await proxy.set('pass');
    await t?.close();
    await proxy.stop();
  });

  const eventsOf = (orderId: string) => seen.filter((e) => e.orderId === orderId).map((e) => e.type);

  it('delivers each state change to in-process subscribers with the order data', async () => {
    const o = await placeOrder(t, user.accessToken, [{ sku, quantity: 2 }]);
    await http('POST', t.api(`/orders/${o.body.id}/cancel`), { token: user.accessToken });
    await eventually(async () => eventsOf(o.body.id).includes(ORDER_EVENTS.cancelled));
    expect(eventsOf(o.body.id)).toEqual(
      expect.arrayContaining([ORDER_EVENTS.created, ORDER_EVENTS.cancelled]),
    );
    expect(seen.find((e) => e.orderId === o.body.id && e.type === ORDER_EVENTS.created)).toMatchObject({
      userId: user.user.id,
      source: 'web',
      flashSaleId: null,
      // The lines as the order copied them (decision 0028): the confirmation mail reads no order.
      items: [{ sku, quantity: 2, name: `Product ${sku}`, unitPrice: 500, currency: 'EUR' }],
      total: { amount: 1000, currency: 'EUR' },
    });
  });

  it('Redis down at commit: the order is still created, its event waits in the outbox, and the relay delivers it once Redis is back', async () => {
    await proxy.set('refuse');
    const o = await placeOrder(t, user.accessToken, [{ sku, quantity: 1 }]);
    expect(o.status).toBe(201);
    await new Promise((r) => setTimeout(r, 1000));
    const db = t.app.get(DbRouter);
    const pending = await db
      .primaryReader()
      .query('SELECT published_at FROM outbox WHERE aggregate_id = ?', [o.body.id]);
    expect(pending).toEqual([{ published_at: null }]);
    expect(eventsOf(o.body.id)).toEqual([]);
    await proxy.set('pass');
    await eventually(async () => eventsOf(o.body.id).includes(ORDER_EVENTS.created), 20000);
    const published = await db
      .primaryReader()
      .query('SELECT published_at FROM outbox WHERE aggregate_id = ?', [o.body.id]);
    expect(published[0].published_at).not.toBeNull();
  });
});
