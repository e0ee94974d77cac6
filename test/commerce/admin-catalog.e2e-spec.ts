import { RegisteredUser, adminToken, registerUser } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';
import { tag } from './support';

/** Issue 23: shipping methods, tax rates and coupons are admin-managed, validated, and admin-only. */
describe('admin-managed shipping methods, tax rates and coupons', () => {
  let t: TestApp;
  let admin: string;
  let customer: RegisteredUser;

  beforeAll(async () => {
    t = await startApp();
    admin = await adminToken(t);
    customer = await registerUser(t);
  });
  afterAll(() => t?.close());

  it('shipping methods: create, list by destination, change, delete; codes unique; countries ISO 3166-1', async () => {
    const code = tag('ship').toLowerCase();
    const created = await http('POST', t.api('/admin/shipping-methods'), {
      token: admin,
      body: { code, name: 'Standard', price: 490, currency: 'EUR', freeAbove: 5000, countries: ['SE', 'NO'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code,
      price: 490,
      freeAbove: 5000,
      countries: ['NO', 'SE'],
      active: true,
    });

    const forSe = await http('GET', t.api('/shipping-methods?country=SE&currency=EUR'));
    expect(forSe.status).toBe(200);
    expect(forSe.body.items.map((m: any) => m.code)).toContain(code);
    expect(
      (await http('GET', t.api('/shipping-methods?country=DK'))).body.items.map((m: any) => m.code),
    ).not.toContain(code);
    expect(
      (await http('GET', t.api('/shipping-methods?country=SE&currency=USD'))).body.items.map(
        (m: any) => m.code,
      ),
    ).not.toContain(code);

    const dup = await http('POST', t.api('/admin/shipping-methods'), {
      token: admin,
      body: { code, name: 'Again', price: 1, currency: 'EUR', countries: ['SE'] },
    });
    expect([dup.status, dup.body.code]).toEqual([409, 'SHIPPING_METHOD_CODE_TAKEN']);
    const badCountry = await http('POST', t.api('/admin/shipping-methods'), {
      token: admin,
      body: { code: tag('x'), name: 'X', price: 1, currency: 'EUR', countries: ['UK'] },
    });
    expect(badCountry.status).toBe(400);

    const off = await http('PATCH', t.api(`/admin/shipping-methods/${created.body.id}`), {
      token: admin,
      body: { active: false, price: 590 },
    });
    expect(off.body).toMatchObject({ active: false, price: 590, code });
    expect(
      (await http('GET', t.api('/shipping-methods?country=SE'))).body.items.map((m: any) => m.code),
    ).not.toContain(code);
    expect(
      (await http('GET', t.api('/admin/shipping-methods'), { token: admin })).body.items.map(
        (m: any) => m.code,
      ),
    ).toContain(code);
    expect(
      (await http('DELETE', t.api(`/admin/shipping-methods/${created.body.id}`), { token: admin })).status,
    ).toBe(204);
    expect(
      (await http('DELETE', t.api(`/admin/shipping-methods/${created.body.id}`), { token: admin })).status,
    ).toBe(404);
    expect((await http('GET', t.api('/shipping-methods?country=se'))).status).toBe(400);
    expect(
      (await http('GET', t.api('/admin/shipping-methods'), { token: customer.accessToken })).status,
    ).toBe(403);
  });

  it('tax rates: one per country (and category); basis points 0-10000; admin only', async () => {
    const created = await http('POST', t.api('/admin/tax-rates'), {
      token: admin,
      body: { country: 'PT', name: 'IVA 23 %', rateBp: 2300 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ country: 'PT', categoryId: null, rateBp: 2300 });
    const dup = await http('POST', t.api('/admin/tax-rates'), {
      token: admin,
      body: { country: 'PT', name: 'again', rateBp: 600 },
    });
    expect([dup.status, dup.body.code]).toEqual([409, 'TAX_RATE_EXISTS']);
    const cat = await http('POST', t.api('/categories'), {
      token: admin,
      body: { name: 'Books', slug: tag('books').toLowerCase() },
    });
    const reduced = await http('POST', t.api('/admin/tax-rates'), {
      token: admin,
      body: { country: 'PT', categoryId: cat.body.id, name: 'IVA 6 %', rateBp: 600 },
    });
    expect(reduced.status).toBe(201);
    for (const body of [
      { country: 'PT', name: 'x', rateBp: 10001 },
      { country: 'XX', name: 'x', rateBp: 1 },
      { country: 'PT', name: 'x', rateBp: 1.5 },
    ]) {
      const res = await http('POST', t.api('/admin/tax-rates'), { token: admin, body });
      expect(res.status).toBe(400);
    }
    const list = await http('GET', t.api('/admin/tax-rates'), { token: admin });
    expect(list.body).toMatchObject({ pricesIncludeTax: true, homeCountry: t.config.commerce.shopCountry });
    expect(list.body.items.filter((r: any) => r.country === 'PT')).toHaveLength(2);
    const changed = await http('PATCH', t.api(`/admin/tax-rates/${created.body.id}`), {
      token: admin,
      body: { rateBp: 2200 },
    });
    expect(changed.body.rateBp).toBe(2200);
    expect(
      (await http('DELETE', t.api(`/admin/tax-rates/${reduced.body.id}`), { token: admin })).status,
    ).toBe(204);
    expect(
      (
        await http('POST', t.api('/admin/tax-rates'), {
          token: customer.accessToken,
          body: { country: 'PT', name: 'x', rateBp: 1 },
        })
      ).status,
    ).toBe(403);
  });

  it('coupons: percentage or fixed, limits, window and restrictions validated; codes case-insensitive and unique; delete deactivates', async () => {
    const code = tag('Save').toLowerCase();
    const created = await http('POST', t.api('/admin/coupons'), {
      token: admin,
      body: { code, kind: 'percentage', percentOff: 15, usageLimit: 100, perCustomerLimit: 1, skus: ['A-1'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      code: code.toUpperCase(),
      kind: 'percentage',
      percentOff: 15,
      amountOff: null,
      used: 0,
      skus: ['A-1'],
      categoryIds: null,
      active: true,
    });
    const dup = await http('POST', t.api('/admin/coupons'), {
      token: admin,
      body: { code: code.toUpperCase(), kind: 'percentage', percentOff: 5 },
    });
    expect([dup.status, dup.body.code]).toEqual([409, 'COUPON_CODE_TAKEN']);
    const bad = [
      { code: tag('c'), kind: 'fixed', amountOff: 500 }, // fixed needs a currency
      { code: tag('c'), kind: 'percentage' }, // no percentOff
      { code: tag('c'), kind: 'percentage', percentOff: 101 },
      { code: tag('c'), kind: 'percentage', percentOff: 10, minSubtotal: 1000 }, // minimum needs a currency
      {
        code: tag('c'),
        kind: 'percentage',
        percentOff: 10,
        startsAt: '2026-12-10T00:00:00Z',
        endsAt: '2026-12-09T00:00:00Z',
      },
      { code: 'x', kind: 'percentage', percentOff: 10 },
      { code: tag('c'), kind: 'bogus', percentOff: 10 },
      { code: tag('c'), kind: 'percentage', percentOff: 10, categoryIds: ['not-a-uuid'] },
    ];
    for (const body of bad) {
      const res = await http('POST', t.api('/admin/coupons'), { token: admin, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
    const fixed = await http('POST', t.api('/admin/coupons'), {
      token: admin,
      body: {
        code: tag('fix'),
        kind: 'fixed',
        amountOff: 500,
        currency: 'EUR',
        minSubtotal: 2000,
        endsAt: '2099-01-01T00:00:00.000Z',
      },
    });
    expect(fixed.status).toBe(201);
    const patched = await http('PATCH', t.api(`/admin/coupons/${created.body.id}`), {
      token: admin,
      body: { usageLimit: 5, skus: null },
    });
    expect(patched.body).toMatchObject({ usageLimit: 5, skus: null, used: 0 });
    expect((await http('DELETE', t.api(`/admin/coupons/${created.body.id}`), { token: admin })).status).toBe(
      204,
    );
    expect(
      (await http('GET', t.api(`/admin/coupons/${created.body.id}`), { token: admin })).body.active,
    ).toBe(false);
    const page = await http('GET', t.api('/admin/coupons?limit=1'), { token: admin });
    expect(page.body.items).toHaveLength(1);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await http('GET', t.api(`/admin/coupons?limit=1&cursor=${page.body.nextCursor}`), {
      token: admin,
    });
    expect(next.body.items[0].id).not.toBe(page.body.items[0].id);
    expect((await http('GET', t.api('/admin/coupons'), { token: customer.accessToken })).status).toBe(403);
  });
});
