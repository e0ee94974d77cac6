import { adminToken, registerUser } from '../support/auth';
import { TestApp, http, startApp } from '../support/test-app';

describe('Bull Board at /admin/queues: admins only', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

  it('asks for credentials (401 + WWW-Authenticate Basic) without any', async () => {
    const res = await http('GET', `${t.url}/admin/queues`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(res.body.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a customer (403) by token or by password, and a wrong password (401)', async () => {
    const u = await registerUser(t);
    expect((await http('GET', `${t.url}/admin/queues`, { token: u.accessToken })).status).toBe(403);
    const byPassword = await http('GET', `${t.url}/admin/queues`, {
      headers: { authorization: basic(u.email, u.password) },
    });
    expect(byPassword.status).toBe(403);
    const wrong = await http('GET', `${t.url}/admin/queues`, {
      headers: { authorization: basic(t.config.admin.email, 'not-the-password') },
    });
    expect(wrong.status).toBe(401);
  });

  it('serves the board to the admin by bearer token and by Basic auth, listing every queue', async () => {
    const token = await adminToken(t);
    const page = await http('GET', `${t.url}/admin/queues`, { token });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('<!DOCTYPE html>');
    const api = await http('GET', `${t.url}/admin/queues/api/queues`, {
      headers: { authorization: basic(t.config.admin.email, t.config.admin.password) },
    });
    expect(api.status).toBe(200);
    const names = api.body.queues.map((q: { name: string }) => q.name);
    expect(names).toEqual(expect.arrayContaining(['audit', 'email']));
  });
});
