import { randomUUID } from 'node:crypto';
import { OrdersService } from '../../src/orders';
import { ListOrdersQueryDto } from '../../src/orders/testing';
import { adminToken, registerUser, RegisteredUser } from '../support/auth';
import { TestApp, comparableHeaders, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, uniqueSku } from './builders';

/**
 * A customer's first history page is kept in process memory and checked against the customer's
 * history version in Redis on every read (decision 0031). These tests read it on one instance
 * right after every kind of change made on the other — no waiting — and hold the edge's answer
 * to the pipeline's.
 */
describe('order history: the first page, cached per customer, never behind a committed change', () => {
  let a: TestApp;
  let b: TestApp;
  let admin: string;
  let sku: string;
  const spies: jest.SpyInstance[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([startApp(), startApp()]);
    admin = await adminToken(a);
    sku = uniqueSku('HIST');
    await createProduct(a, admin, [{ sku, price: 1500, stockOnHand: 1000 }]);
  });
  afterEach(() => {
    for (const s of spies.splice(0)) s.mockRestore();
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  const history = async (t: TestApp, who: RegisteredUser, query = '') => {
    const r = await http('GET', t.api(`/orders${query}`), { token: who.accessToken });
    expect(r.status).toBe(200);
    return r.body as {
      items: { id: string; status: string; shippingAddress?: unknown }[];
      nextCursor: string | null;
    };
  };
  const statusOf = async (t: TestApp, who: RegisteredUser, id: string) =>
    (await history(t, who)).items.find((o) => o.id === id)?.status;

  it('shows every change made on the other instance at once: placed, cancelled, paid, fulfilled, refunded, expired', async () => {
    const buyer = await registerUser(a);
    expect((await history(b, buyer)).items).toEqual([]); // b now holds the empty page

    const first = (await placeOrder(a, buyer.accessToken, [{ sku, quantity: 1 }])).body.id as string;
    expect((await history(b, buyer)).items.map((o) => o.id)).toEqual([first]);
    expect(await statusOf(b, buyer, first)).toBe('PENDING_PAYMENT'); // and again: served from b's memory

    expect((await http('POST', a.api(`/orders/${first}/cancel`), { token: buyer.accessToken })).status).toBe(
      200,
    );
    expect(await statusOf(b, buyer, first)).toBe('CANCELLED');

    const second = (await placeOrder(b, buyer.accessToken, [{ sku, quantity: 1 }])).body.id as string;
    expect((await history(a, buyer)).items.map((o) => o.id)).toEqual([second, first]);
    const payment = randomUUID();
    expect(await a.app.get(OrdersService).markPaid(second, { paymentId: payment })).toBe('paid');
    expect(await statusOf(b, buyer, second)).toBe('PAID');
    expect((await http('POST', a.api(`/admin/orders/${second}/fulfill`), { token: admin })).status).toBe(200);
    expect(await statusOf(b, buyer, second)).toBe('FULFILLED');
    expect(await a.app.get(OrdersService).refund(second, { paymentId: payment, restock: false })).toBe(
      'refunded',
    );
    expect(await statusOf(b, buyer, second)).toBe('REFUNDED');

    const third = (await placeOrder(a, buyer.accessToken, [{ sku, quantity: 1 }])).body.id as string;
    expect(await statusOf(b, buyer, third)).toBe('PENDING_PAYMENT');
    expect(await a.app.get(OrdersService).expire(third)).toBe(true);
    expect(await statusOf(b, buyer, third)).toBe('EXPIRED');
  });

  it('shows a flash-sale order and the address it was given at once', async () => {
    const buyer = await registerUser(a);
    expect((await history(b, buyer)).items).toEqual([]);
    const ids = await a.app.get(OrdersService).createFlashSaleOrders([
      {
        reservationId: randomUUID(),
        userId: buyer.user.id,
        flashSaleId: randomUUID(),
        sku,
        quantity: 1,
        unitPrice: 900,
        currency: 'EUR',
        productName: 'History flash',
      },
    ]);
    const [orderId] = [...ids.values()];
    const page = await history(b, buyer);
    expect(page.items.map((o) => o.id)).toEqual([orderId]); // no default address: it awaits one

    const address = {
      fullName: 'Ada',
      line1: 'Main St 1',
      city: 'Berlin',
      postalCode: '10115',
      country: 'DE',
    };
    const set = await http('PUT', a.api(`/orders/${orderId}/address`), {
      token: buyer.accessToken,
      body: { address },
    });
    expect(set.status).toBe(200);
    expect((await history(b, buyer)).items[0].shippingAddress).toMatchObject({
      city: 'Berlin',
      country: 'DE',
    });
  });

  it('keeps customers apart, honours the page size, and pages past the first page as before', async () => {
    const [one, two] = await Promise.all([registerUser(a), registerUser(a)]);
    const mine = [];
    for (let i = 0; i < 3; i++)
      mine.push((await placeOrder(a, one.accessToken, [{ sku, quantity: 1 }])).body.id);
    await placeOrder(a, two.accessToken, [{ sku, quantity: 1 }]);

    expect((await history(b, one)).items.map((o) => o.id)).toEqual(mine.slice().reverse());
    expect((await history(b, two)).items).toHaveLength(1);
    const small = await history(b, one, '?limit=2');
    expect(small.items.map((o) => o.id)).toEqual([mine[2], mine[1]]);
    expect(small.nextCursor).toEqual(expect.any(String));
    const next = await history(b, one, `?limit=2&cursor=${small.nextCursor}`);
    expect(next.items.map((o) => o.id)).toEqual([mine[0]]);
    expect(next.nextCursor).toBeNull();
    expect((await history(b, one, '?status=PENDING_PAYMENT')).items).toHaveLength(3);
  });

  it('answers at the edge what the pipeline answers, and leaves other callers to the pipeline', async () => {
    const buyer = await registerUser(a);
    await placeOrder(a, buyer.accessToken, [{ sku, quantity: 2 }]);
    // Both call OrdersService.listJson: the pipeline with its validated DTO, the edge with `{ limit }`.
    const listJson = jest.spyOn(OrdersService.prototype, 'listJson');
    spies.push(listJson);
    const viaPipe = () => listJson.mock.calls.filter(([, q]) => q instanceof ListOrdersQueryDto).length;

    const edge = await http('GET', b.api('/orders?limit=5'), { token: buyer.accessToken });
    expect(listJson).toHaveBeenCalledTimes(1);
    expect(viaPipe()).toBe(0);
    // `limit=0005` is not plain for the edge; the pipeline reads it as 5.
    const viaPipeline = await http('GET', b.api('/orders?limit=0005'), { token: buyer.accessToken });
    expect(viaPipe()).toBe(1);
    expect(edge.status).toBe(200);
    expect(edge.body.items).toHaveLength(1);
    expect(edge.body).toEqual(viaPipeline.body);
    expect(comparableHeaders(edge)).toEqual(comparableHeaders(viaPipeline));

    const anonymous = await http('GET', b.api('/orders?limit=5'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('UNAUTHENTICATED');
    const bad = await http('GET', b.api('/orders?limit=500'), { token: buyer.accessToken });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
    expect(listJson).toHaveBeenCalledTimes(2); // refused by the guard and the pipe, not listed
  });
});
