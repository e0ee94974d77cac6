import { DbRouter } from '../../src/infra/database/db-router.service';
import { adminToken, registerUser } from '../support/auth';
import { TestApp, eventually, http } from '../support/test-app';
import { openFlashSale } from '../support/flash-sale';
import { adminReadiness } from '../support/readiness';

/**
 * What every Redis topology must carry: readiness (commands, Bull's queues), a product (cache
 * invalidation over pub/sub), a flash-sale purchase (Lua over the sale's keys) and the stream
 * consumer turning it into an order in MySQL. Returns the sale id.
 */
export async function sellThroughFlashSale(t: TestApp): Promise<string> {
  // Readiness converges (cluster slots and Bull's connections come up after boot); a load
  // balancer polls it the same way.
  const ready = await eventually(async () => {
    const r = await adminReadiness(t);
    return r.status === 200 ? r : undefined;
  }, 30_000);
  expect(ready.body.redis.state).toBe('up');
  for (const q of Object.values(ready.body.queues) as { state: string }[]) expect(q.state).toBe('up');

  const admin = await adminToken(t);
  const buyer = await registerUser(t);
  const sku = `RT-${Date.now()}`;
  const product = await http('POST', t.api('/products'), {
    token: admin,
    body: { name: 'Topology tee', variants: [{ sku, price: 1000, currency: 'EUR', stockOnHand: 5 }] },
  });
  expect(product.status).toBe(201);
  expect((await http('GET', t.api(`/products/${product.body.id}`))).status).toBe(200);
  const saleId = await openFlashSale(t, admin, { sku, price: 500, quantity: 1 });
  const buy = (token: string) => http('POST', t.api(`/flash-sales/${saleId}/purchase`), { token });
  expect((await buy(buyer.accessToken)).status).toBe(202);
  const rival = await registerUser(t);
  expect((await buy(rival.accessToken)).body.code).toBe('SOLD_OUT');
  const order = await eventually(async () => {
    const rows: { id: string }[] = await t.app
      .get(DbRouter)
      .primaryReader()
      .query('SELECT id FROM orders WHERE flash_sale_id = ? AND user_id = ?', [saleId, buyer.user.id]);
    return rows[0];
  });
  expect(order.id).toMatch(/^[0-9a-f-]{36}$/);
  return saleId;
}
