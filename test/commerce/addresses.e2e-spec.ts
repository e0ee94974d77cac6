import { RegisteredUser, registerUser } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';
import { address } from './support';

/** Issue 23, address book: CRUD, one default, validation a carrier would need, bounded size, owner only. */
describe('address book', () => {
  let t: TestApp;
  let alice: RegisteredUser;
  let bob: RegisteredUser;

  beforeAll(async () => {
    t = await startApp();
    [alice, bob] = await Promise.all([registerUser(t), registerUser(t)]);
  });
  afterAll(() => t?.close());

  const post = (token: string, body: unknown) => http('POST', t.api('/addresses'), { token, body });

  it('creates, lists, changes and deletes; the first address is the default and one default always remains', async () => {
    const first = await post(alice.accessToken, address('de', { postalCode: ' 10115 ', city: '  Berlin  ' }));
    expect(first.status).toBe(201);
    // Normalized: trimmed, country and postal code upper-cased.
    expect(first.body).toMatchObject({
      country: 'DE',
      postalCode: '10115',
      city: 'Berlin',
      isDefault: true,
      company: null,
    });
    const second = await post(alice.accessToken, address('AT'));
    expect(second.body.isDefault).toBe(false);
    const third = await post(alice.accessToken, { ...address('FR'), isDefault: true });
    expect(third.body.isDefault).toBe(true);

    let list = (await http('GET', t.api('/addresses'), { token: alice.accessToken })).body.items;
    expect(list.map((a: any) => [a.country, a.isDefault])).toEqual([
      ['DE', false],
      ['AT', false],
      ['FR', true],
    ]);

    const patched = await http('PATCH', t.api(`/addresses/${second.body.id}`), {
      token: alice.accessToken,
      body: { line2: 'Stiege 2', isDefault: true },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ line2: 'Stiege 2', isDefault: true, country: 'AT' });

    expect(
      (await http('DELETE', t.api(`/addresses/${second.body.id}`), { token: alice.accessToken })).status,
    ).toBe(204);
    list = (await http('GET', t.api('/addresses'), { token: alice.accessToken })).body.items;
    // The default was deleted: the oldest remaining address took over.
    expect(list.map((a: any) => [a.country, a.isDefault])).toEqual([
      ['DE', true],
      ['FR', false],
    ]);
  });

  it('answers 422 ADDRESS_INVALID naming every field a carrier could not use', async () => {
    const res = await post(alice.accessToken, {
      fullName: '   ',
      line1: 'Main St 1',
      city: 'Springfield',
      postalCode: '12#45',
      country: 'UK', // not ISO 3166-1: the code is GB
      phone: 'call me',
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('ADDRESS_INVALID');
    expect(res.body.details.map((d: any) => d.field).sort()).toEqual([
      'country',
      'fullName',
      'phone',
      'postalCode',
    ]);
    expect(res.body.requestId).toEqual(expect.any(String));
    // Shapes and lengths are the DTO's: 400 VALIDATION_FAILED.
    const long = await post(alice.accessToken, address('DE', { line1: 'x'.repeat(201) }));
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('VALIDATION_FAILED');
    const missing = await post(alice.accessToken, { fullName: 'A', line1: 'B', city: 'C', country: 'DE' });
    expect(missing.status).toBe(400);
    const control = await post(alice.accessToken, address('DE', { line1: 'Bell\u0007 street' }));
    expect(control.status).toBe(422);
    expect(control.body.details).toEqual([
      { field: 'line1', problem: 'must not contain control characters' },
    ]);
  });

  it("another customer's address is 404 for read-modify-delete, and never listed", async () => {
    const mine = await post(bob.accessToken, address('ES'));
    for (const [method, body] of [
      ['PATCH', { city: 'Hijacked' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await http(method, t.api(`/addresses/${mine.body.id}`), { token: alice.accessToken, body });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('ADDRESS_NOT_FOUND');
    }
    const list = (await http('GET', t.api('/addresses'), { token: alice.accessToken })).body.items;
    expect(list.map((a: any) => a.id)).not.toContain(mine.body.id);
    expect(
      (await http('PATCH', t.api('/addresses/not-an-id'), { token: bob.accessToken, body: { city: 'X' } }))
        .status,
    ).toBe(404);
  });

  it('holds at most 20 addresses per customer, also under concurrent creates (409 ADDRESS_BOOK_FULL)', async () => {
    const carol = await registerUser(t);
    const results = await Promise.all(
      Array.from({ length: 25 }, () => post(carol.accessToken, address('IT'))),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'ADDRESS_BOOK_FULL')).toBe(
      true,
    );
    const list = (await http('GET', t.api('/addresses'), { token: carol.accessToken })).body.items;
    expect(list).toHaveLength(20);
    expect(list.filter((a: any) => a.isDefault)).toHaveLength(1);
  });
});
