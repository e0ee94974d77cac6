import { newId } from '../../src/common/ids';
import { adminToken, registerUser } from '../support/auth';
import { openFlashSale } from '../support/flash-sale';
import { TestApp, http, startApp } from '../support/test-app';
import { createProduct, uniqueSku } from '../orders/builders';

/**
 * Unknown flash-sale ids are remembered (issue 20): before this change every request naming an
 * unknown sale — a purchase on the HTTP edge, GET /flash-sales/:id, the caller's result — read
 * the database (the replica, then the primary), so a bot repeating one made-up id put two
 * queries per request on MySQL. Counted by shop_flash_sale_definition_reads_total.
 */
async function definitionReads(t: TestApp, found: 'true' | 'false'): Promise<number> {
  const text = (await http('GET', `${t.url}/metrics`)).body as string;
  const m = new RegExp(`^shop_flash_sale_definition_reads_total\\{found="${found}"\\} (\\S+)$`, 'm').exec(
    text,
  );
  return m ? Number(m[1]) : 0;
}

describe('flash sale: unknown sale ids are answered from memory after one lookup', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t);
  });
  afterAll(() => t?.close());

  it('90 requests for one unknown id (purchase on the edge, GET, purchase result): all 404, one database lookup', async () => {
    const bot = await registerUser(t);
    const id = newId();
    const before = await definitionReads(t, 'false');
    const answers = [];
    for (let i = 0; i < 30; i++) {
      answers.push(await http('POST', t.api(`/flash-sales/${id}/purchase`), { token: bot.accessToken }));
      answers.push(await http('GET', t.api(`/flash-sales/${id}`), { token: bot.accessToken }));
      answers.push(await http('GET', t.api(`/flash-sales/${id}/purchase`), { token: bot.accessToken }));
    }
    expect(new Set(answers.map((a) => `${a.status} ${a.body.code}`))).toEqual(new Set(['404 NOT_FOUND']));
    expect((await definitionReads(t, 'false')) - before).toBe(1);
    // Another unknown id is another lookup (the cache is per id, not a blanket "no").
    await http('GET', t.api(`/flash-sales/${newId()}`), { token: bot.accessToken });
    expect((await definitionReads(t, 'false')) - before).toBe(2);
  });

  it('real sales are unaffected, on this instance and on one that never saw them', async () => {
    const sku = uniqueSku('KNOWN');
    await createProduct(t, admin, [{ sku, price: 500, stockOnHand: 10 }]);
    const saleId = await openFlashSale(t, admin, { sku, quantity: 2 });
    const buyer = await registerUser(t);
    expect((await http('GET', t.api(`/flash-sales/${saleId}`), { token: buyer.accessToken })).status).toBe(
      200,
    );
    expect(
      (await http('POST', t.api(`/flash-sales/${saleId}/purchase`), { token: buyer.accessToken })).status,
    ).toBe(202);
    const other = await startApp();
    try {
      expect(
        (await http('GET', other.api(`/flash-sales/${saleId}`), { token: buyer.accessToken })).status,
      ).toBe(200);
      const second = await registerUser(other);
      expect(
        (await http('POST', other.api(`/flash-sales/${saleId}/purchase`), { token: second.accessToken }))
          .status,
      ).toBe(202);
    } finally {
      await other.close();
    }
  });
});
