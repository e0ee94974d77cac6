import { randomUUID } from 'node:crypto';
import { DbRouter } from '../../src/infra/database/db-router.service';
import { InventoryService } from '../../src/inventory';
import { MailService } from '../../src/notifications';
import { adminToken, registerUser } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';

const sku = (name: string) => `${name}-${randomUUID().slice(0, 8)}`.toUpperCase();

describe('inventory: admin read/adjust and low-stock alerts', () => {
  let t: TestApp;
  let admin: string;
  let inventory: InventoryService;
  let db: DbRouter;
  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t);
    inventory = t.app.get(InventoryService);
    db = t.app.get(DbRouter);
  });
  afterAll(() => t.close());

  it('GET /inventory/:sku shows onHand, reserved, available, threshold; PUT adjusts them', async () => {
    const s = sku('adm');
    await inventory.ensureStock(s, 10);
    await db.transaction(() => inventory.reserve([{ sku: s, quantity: 4 }], { orderId: randomUUID() }));
    const got = await http('GET', t.api(`/inventory/${s}`), { token: admin });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ sku: s, onHand: 10, reserved: 4, available: 6, lowStockThreshold: 5 });
    const put = await http('PUT', t.api(`/inventory/${s}`), {
      token: admin,
      body: { onHand: 20, lowStockThreshold: 2 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ sku: s, onHand: 20, reserved: 4, available: 16, lowStockThreshold: 2 });
    const below = await http('PUT', t.api(`/inventory/${s}`), { token: admin, body: { onHand: 3 } });
    expect(below.status).toBe(409);
    expect(below.body.code).toBe('ON_HAND_BELOW_RESERVED');
  });

  it('answers 404 for an unknown SKU, 400 for bad bodies, 401 without token and 403 for customers', async () => {
    expect((await http('GET', t.api('/inventory/NO-SUCH-SKU'), { token: admin })).status).toBe(404);
    expect(
      (await http('PUT', t.api('/inventory/NO-SUCH-SKU'), { token: admin, body: { onHand: 1 } })).status,
    ).toBe(404);
    for (const body of [{}, { onHand: -1 }, { onHand: 1.5 }, { onHand: '5' }, { reserved: 0 }])
      expect((await http('PUT', t.api('/inventory/ANY'), { token: admin, body })).status).toBe(400);
    expect((await http('GET', t.api('/inventory/ANY'))).status).toBe(401);
    const customer = await registerUser(t);
    expect((await http('GET', t.api('/inventory/ANY'), { token: customer.accessToken })).status).toBe(403);
    expect(
      (await http('PUT', t.api('/inventory/ANY'), { token: customer.accessToken, body: { onHand: 1 } }))
        .status,
    ).toBe(403);
  });

  it('sends one low-stock mail to ops when available crosses below the threshold, only after commit', async () => {
    const mail = t.app.get(MailService);
    const sent = jest.spyOn(mail, 'send').mockResolvedValue(undefined);
    try {
      const s = sku('low');
      await inventory.ensureStock(s, 10, 5);
      const reserve = (q: number) =>
        db.transaction(() => inventory.reserve([{ sku: s, quantity: q }], { orderId: randomUUID() }));
      await reserve(5); // available 5: not below 5 yet
      expect(sent).not.toHaveBeenCalled();
      // crossing inside a transaction that then rolls back: nothing is sent
      await expect(
        db.transaction(async () => {
          await inventory.reserve([{ sku: s, quantity: 1 }], { orderId: randomUUID() });
          expect(sent).not.toHaveBeenCalled(); // not from inside the transaction
          throw new Error('order failed later');
        }),
      ).rejects.toThrow('order failed later');
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).not.toHaveBeenCalled();
      await reserve(1); // available 4: crossed
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).toHaveBeenCalledTimes(1);
      const hour = new Date().toISOString().slice(0, 13).replace(/[-T]/g, '');
      expect(sent).toHaveBeenCalledWith({
        template: 'low-stock',
        to: t.config.mail.opsEmail,
        data: { sku: s, available: 4, threshold: 5 },
        dedupeKey: `low-stock:${s}:${hour}`,
      });
      await reserve(1); // already below: no new crossing
      await new Promise((r) => setTimeout(r, 50));
      expect(sent).toHaveBeenCalledTimes(1);
    } finally {
      sent.mockRestore();
    }
  });
});
