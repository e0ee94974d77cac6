import type { MailService } from '../notifications';
import type { UsersService } from '../users';
import type { OrderEvent } from './order-events';
import { OrderNotifications } from './order-notifications';
import type { OrdersService } from './orders.service';

const event = (n: number, items: OrderEvent['items']): OrderEvent => ({
  eventId: `e${n}`,
  type: 'order.created',
  orderId: `o${n}`,
  userId: `u${n % 2}`,
  status: 'PENDING_PAYMENT',
  source: 'web',
  flashSaleId: null,
  reservationId: null,
  paymentId: null,
  items,
  total: { amount: 1000, currency: 'EUR' },
  occurredAt: new Date(0).toISOString(),
});

describe('OrderNotifications.confirm', () => {
  const setup = () => {
    const sent: unknown[] = [];
    const contactReads: string[][] = [];
    const orderReads: string[] = [];
    const users = {
      contacts: async (ids: string[]) => {
        contactReads.push(ids);
        return new Map(ids.map((id) => [id, { email: `${id}@shop.test`, name: `Name ${id}` }]));
      },
      findById: async (id: string) => ({ id, email: `${id}@shop.test`, name: `Name ${id}` }),
    } as unknown as UsersService;
    const orders = {
      getForSystem: async (id: string) => {
        orderReads.push(id);
        return {
          id,
          items: [{ sku: 'A', productName: 'Alpha', quantity: 2, unitPrice: 500, currency: 'EUR' }],
          total: { amount: 1000, currency: 'EUR' },
        };
      },
    } as unknown as OrdersService;
    const mail = { send: async (m: unknown) => void sent.push(m) } as unknown as MailService;
    return { n: new OrderNotifications(orders, users, mail), sent, contactReads, orderReads };
  };

  it('takes the lines from the event and reads the buyers of concurrent confirmations at once', async () => {
    const { n, sent, contactReads, orderReads } = setup();
    const line = { sku: 'A', quantity: 2, name: 'Alpha', unitPrice: 500, currency: 'EUR' };
    await Promise.all([1, 2, 3].map((i) => n.confirm(event(i, [line]))));
    expect(orderReads).toEqual([]);
    expect(contactReads).toEqual([['u1', 'u0']]);
    expect(sent).toHaveLength(3);
    expect(sent[0]).toEqual({
      template: 'order-confirmation',
      to: 'u1@shop.test',
      dedupeKey: 'order-confirmation:o1',
      data: {
        name: 'Name u1',
        orderId: 'o1',
        items: [{ sku: 'A', name: 'Alpha', quantity: 2, lineTotal: 1000, currency: 'EUR' }],
        total: { amount: 1000, currency: 'EUR' },
      },
    });
  });

  it('reads the order for an event written before the lines carried names and prices: the same mail', async () => {
    const { n, sent, orderReads } = setup();
    await n.confirm(event(1, [{ sku: 'A', quantity: 2 }]));
    expect(orderReads).toEqual(['o1']);
    expect(sent).toEqual([
      expect.objectContaining({
        to: 'u1@shop.test',
        data: expect.objectContaining({
          items: [{ sku: 'A', name: 'Alpha', quantity: 2, lineTotal: 1000, currency: 'EUR' }],
        }),
      }),
    ]);
  });
});
