import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { PROTO_LOADER_OPTIONS } from '../../src/infra/grpc/grpc-server';
import { ORDERS_GRPC } from '../../src/orders';
import { PAYMENTS_GRPC } from '../../src/payments';
import { RegisteredUser, adminToken, registerUser } from '../support/auth';
import { decodeJwt, signJwt } from '../support/jwt';
import { TestApp, http, startApp } from '../support/test-app';
import { createProduct, placeOrder, uniqueSku } from '../orders/builders';
import { unknownUuid } from './hostile-cases';

/**
 * Issue 10, focused checks the generated hostile-input suite does not make, and that the other
 * suites do not already make (covered elsewhere: BOLA on single REST/gRPC reads in the orders
 * and payments suites, alg:none/tampered/expired over REST in users/auth, the brute-force limit
 * across two instances in users/throttling, `?limit=1000` on GET /orders).
 */

interface GrpcService {
  name: string;
  methods: Record<string, { requestType: { type: { field: { name: string }[] } }; responseStream: boolean }>;
  client: grpc.Client & Record<string, any>;
}

function grpcServices(url: string): GrpcService[] {
  return [ORDERS_GRPC, PAYMENTS_GRPC].map((g) => {
    const def = protoLoader.loadSync(g.protoPath, { ...PROTO_LOADER_OPTIONS, includeDirs: [g.includeDir] });
    const name = Object.keys(def).find((k) => k.endsWith(g.service))!;
    const Ctor = name.split('.').reduce((o: any, k) => o[k], grpc.loadPackageDefinition(def));
    return { name, methods: def[name] as any, client: new Ctor(url, grpc.credentials.createInsecure()) };
  });
}

/** Calls any method (unary or server stream) and resolves with its status code and first message. */
function callRpc(
  svc: GrpcService,
  method: string,
  req: unknown,
  token?: string,
): Promise<{ code: number; details: string; first?: any }> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const deadline = Date.now() + 10_000;
  return new Promise((resolve) => {
    if (svc.methods[method].responseStream) {
      const call = svc.client[method](req, md, { deadline });
      call.on('data', (first: unknown) => {
        resolve({ code: grpc.status.OK, details: '', first });
        call.cancel();
      });
      call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
      call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details }));
    } else
      svc.client[method](req, md, { deadline }, (e: grpc.ServiceError | null, first: unknown) =>
        resolve(e ? { code: e.code, details: e.details } : { code: grpc.status.OK, details: '', first }),
      );
  });
}

/** What every API response carries (the OWASP REST set); /docs (HTML) gets helmet's full set. */
const API_HEADERS: Record<string, RegExp> = {
  'content-security-policy': /default-src '(none|self)'/,
  'strict-transport-security': /max-age=\d{7,}/,
  'x-content-type-options': /^nosniff$/,
  'x-frame-options': /^(DENY|SAMEORIGIN)$/,
  'referrer-policy': /^no-referrer$/,
};
const HTML_HEADERS = [
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-permitted-cross-domain-policies',
];

describe('security: BOLA, tokens, limits and headers', () => {
  let t: TestApp;
  let b: TestApp;
  let admin: string;
  let victim: RegisteredUser;
  let attacker: RegisteredUser;
  let sku: string;
  let services: GrpcService[];
  const victimIds = { order: '', payment: '' };

  beforeAll(async () => {
    [t, b] = await Promise.all([startApp(), startApp()]);
    services = grpcServices(t.grpcUrl);
    admin = await adminToken(t);
    [victim, attacker] = await Promise.all([registerUser(t), registerUser(t)]);
    sku = uniqueSku('SEC');
    await createProduct(t, admin, [{ sku, price: 700, stockOnHand: 1000 }]);
    victimIds.order = (await placeOrder(t, victim.accessToken, [{ sku, quantity: 1 }])).body.id;
    const pay = await http('POST', t.api('/payments'), {
      token: victim.accessToken,
      body: { orderId: victimIds.order },
    });
    victimIds.payment = pay.body.id;
  });
  afterAll(async () => {
    for (const s of services ?? []) s.client.close();
    await Promise.all([t?.close(), b?.close()]);
  });

  it("BOLA over REST: every operation addressing an order or payment by id answers another user's id exactly as an unknown id, and changes nothing", async () => {
    const doc = (await http('GET', `${t.url}/docs-json`)).body;
    const bodies: Record<string, unknown> = {
      'POST /api/v1/payments/{id}/confirm': { card: '4242424242424242' },
      'POST /api/v1/payments/{id}/refunds': { amount: 1 },
      'PUT /api/v1/orders/{id}/address': {
        address: {
          fullName: 'Mallory',
          line1: 'Elsewhere 1',
          city: 'Wien',
          postalCode: '1010',
          country: 'AT',
        },
      },
    };
    const tried: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      if (!/\/(orders|payments)\/\{id\}/.test(path)) continue;
      const id = path.includes('/payments/') ? victimIds.payment : victimIds.order;
      for (const [m, op] of Object.entries<any>(item)) {
        const key = `${m.toUpperCase()} ${path}`;
        if (op.requestBody && !(key in bodies)) throw new Error(`no body for ${key}`);
        const call = (target: string) =>
          http(m.toUpperCase(), t.url + path.replace('{id}', target), {
            token: attacker.accessToken,
            body: bodies[key],
          });
        const [theirs, unknown] = [await call(id), await call(unknownUuid())];
        expect({ key, status: theirs.status, code: theirs.body.code }).toEqual({
          key,
          status: unknown.status,
          code: unknown.body.code,
        });
        expect([403, 404]).toContain(theirs.status);
        tried.push(`${key} → ${theirs.status}`);
      }
    }
    expect(tried.length).toBeGreaterThanOrEqual(7);
    console.log(`BOLA REST: ${tried.join(', ')}`);

    // Lists are scoped to the caller; the admin list refuses a customer whatever the filter.
    const mine = await http('GET', t.api('/orders?limit=100'), { token: attacker.accessToken });
    expect(mine.body.items.map((o: { id: string }) => o.id)).not.toContain(victimIds.order);
    const adminList = await http('GET', t.api(`/admin/orders?userId=${victim.user.id}`), {
      token: attacker.accessToken,
    });
    expect(adminList.status).toBe(403);
    const filtered = await http('GET', t.api(`/orders?userId=${victim.user.id}`), {
      token: attacker.accessToken,
    });
    expect(filtered.status).toBe(400);

    // Nothing the attacker did changed the victim's order or payment.
    const order = await http('GET', t.api(`/orders/${victimIds.order}`), { token: victim.accessToken });
    expect(order.body.status).toBe('PENDING_PAYMENT');
    const payment = await http('GET', t.api(`/payments/${victimIds.payment}`), { token: victim.accessToken });
    expect(payment.body).toMatchObject({ status: 'PENDING', refundedAmount: 0 });
  });

  it("BOLA over gRPC: every method taking an order or payment id answers another user's id exactly as an unknown id (NOT_FOUND), and lists stay scoped", async () => {
    const tried: string[] = [];
    for (const svc of services) {
      for (const [method, m] of Object.entries(svc.methods)) {
        const field = m.requestType.type.field.map((f) => f.name).find((f) => f === 'id' || f === 'order_id');
        if (!field) continue;
        const id = svc.name.includes('payments') && field === 'id' ? victimIds.payment : victimIds.order;
        const theirs = await callRpc(svc, method, { [field]: id }, attacker.accessToken);
        const unknown = await callRpc(svc, method, { [field]: unknownUuid() }, attacker.accessToken);
        expect({ method, code: grpc.status[theirs.code] }).toEqual({ method, code: 'NOT_FOUND' });
        expect({ method, details: theirs.details.replace(id, '') }).toEqual({
          method,
          details: unknown.details.replace(/[0-9a-f-]{36}/, ''),
        });
        tried.push(`${method}(${field})`);
      }
    }
    expect(tried).toEqual(
      expect.arrayContaining([
        'GetOrder(id)',
        'CancelOrder(id)',
        'WatchOrder(id)',
        'CreatePayment(order_id)',
        'GetPayment(id)',
      ]),
    );
    const orders = services.find((s) => s.name.includes('orders'))!;
    const list = await callRpc(orders, 'ListOrders', { page_size: 100 }, attacker.accessToken);
    expect(list.first.orders.map((o: { id: string }) => o.id)).not.toContain(victimIds.order);
    const order = await http('GET', t.api(`/orders/${victimIds.order}`), { token: victim.accessToken });
    expect(order.body.status).toBe('PENDING_PAYMENT');
  });

  it('mass assignment: price, status, role and userId in a write are 400 VALIDATION_FAILED and take no effect', async () => {
    const before = await http('GET', t.api('/orders?limit=100'), { token: attacker.accessToken });
    const attempts: [string, string, unknown, string][] = [
      ['POST', '/orders', { items: [{ sku, quantity: 1 }], userId: victim.user.id }, 'userId'],
      ['POST', '/orders', { items: [{ sku, quantity: 1 }], status: 'PAID' }, 'status'],
      ['POST', '/orders', { items: [{ sku, quantity: 1, price: 1 }] }, 'price'],
      ['POST', '/payments', { orderId: victimIds.order, status: 'SUCCEEDED' }, 'status'],
      ['POST', '/auth/logout', { refreshToken: 'x', userId: victim.user.id }, 'userId'],
    ];
    for (const [method, path, body, field] of attempts) {
      const res = await http(method, t.api(path), { token: attacker.accessToken, body });
      expect({ path, field, status: res.status, code: res.body.code }).toEqual({
        path,
        field,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
      expect(JSON.stringify(res.body.details)).toContain(field);
    }
    const login = await http('POST', t.api('/auth/login'), {
      body: { email: attacker.email, password: attacker.password, role: 'admin' },
    });
    expect(login.status).toBe(400);
    const after = await http('GET', t.api('/orders?limit=100'), { token: attacker.accessToken });
    expect(after.body.items).toEqual(before.body.items);
    expect((await http('GET', t.api('/users/me'), { token: attacker.accessToken })).body.role).toBe(
      'customer',
    );
  });

  it('tokens: alg none/NONE, HS384/HS512 with the right secret, tampered, expired and malformed bearers are 401 over REST and UNAUTHENTICATED over gRPC', async () => {
    const secret = t.config.auth.jwtSecret;
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: attacker.user.id, role: 'admin', iat: now, exp: now + 600 };
    const [h, p, s] = attacker.accessToken.split('.');
    const elevated = Buffer.from(
      JSON.stringify({ ...decodeJwt(attacker.accessToken).payload, role: 'admin' }),
    ).toString('base64url');
    const hmac = (header: object, digest: string, key = secret) => {
      const head = signJwt(header, claims).slice(0, -1);
      return `${head}.${createHmac(digest, key).update(head).digest('base64url')}`;
    };
    // The genuine token is verified (and remembered) first: a variant of it must not ride on that.
    expect((await http('GET', t.api('/users/me'), { token: attacker.accessToken })).status).toBe(200);
    const bearers: [string, string][] = [
      ['alg none', signJwt({ alg: 'none', typ: 'JWT' }, claims)],
      ['alg NONE', signJwt({ alg: 'NONE', typ: 'JWT' }, claims)],
      ['alg none with the original signature', `${signJwt({ alg: 'none' }, claims).slice(0, -1)}.${s}`],
      ['HS384 with the secret', hmac({ alg: 'HS384', typ: 'JWT' }, 'sha384')],
      ['HS512 with the secret', hmac({ alg: 'HS512', typ: 'JWT' }, 'sha512')],
      ['payload tampered (role admin)', `${h}.${elevated}.${s}`],
      ['signature stripped', `${h}.${p}.`],
      [
        'expired',
        signJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, role: 'customer', exp: now - 1 }, secret),
      ],
      [
        'not yet valid',
        signJwt({ alg: 'HS256', typ: 'JWT' }, { ...claims, role: 'customer', nbf: now + 600 }, secret),
      ],
      ['kid /dev/null, empty key', hmac({ alg: 'HS256', kid: '../../../../dev/null' }, 'sha256', '')],
      ['two tokens', `${attacker.accessToken} ${attacker.accessToken}`],
      ['empty', ''],
    ];
    const orders = services.find((x) => x.name.includes('orders'))!;
    for (const [name, token] of bearers) {
      const rest = await http('GET', t.api('/users/me'), { headers: { authorization: `Bearer ${token}` } });
      expect({ name, status: rest.status }).toEqual({ name, status: 401 });
      expect(rest.body).toEqual({
        statusCode: 401,
        code: expect.stringMatching(/^(UNAUTHENTICATED|TOKEN_EXPIRED)$/),
        message: expect.any(String),
        requestId: expect.any(String),
      });
      const admin = await http('GET', t.api('/admin/orders'), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect({ name, status: admin.status }).toEqual({ name, status: 401 });
      const rpc = await callRpc(orders, 'ListOrders', {}, token);
      expect({ name, code: grpc.status[rpc.code] }).toEqual({ name, code: 'UNAUTHENTICATED' });
    }
    const board = await http('GET', `${t.url}/admin/queues`, {
      headers: { authorization: `Bearer ${signJwt({ alg: 'none' }, claims)}` },
    });
    expect(board.status).toBe(401);
  });

  it('body limit: a body of exactly BODY_LIMIT_BYTES is read, one byte more is 413 in the contract shape, chunked or not', async () => {
    const limit = t.config.http.bodyLimitBytes;
    const bodyOf = (size: number) => {
      const head = '{"email":"a@b.c","password":"x","pad":"';
      return `${head}${'x'.repeat(size - head.length - 2)}"}`;
    };
    const exact = await http('POST', t.api('/auth/login'), { raw: bodyOf(limit) });
    expect(exact.status).toBe(400); // read and validated: `pad` is an unknown field
    expect(exact.body.code).toBe('VALIDATION_FAILED');
    const over = await http('POST', t.api('/auth/login'), { raw: bodyOf(limit + 1) });
    expect(over.status).toBe(413);
    expect(over.body).toEqual({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: expect.any(String),
      requestId: expect.any(String),
    });
    // Without a Content-Length the limit is enforced while streaming.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        t.api('/auth/login'),
        { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      const big = bodyOf(limit + 64 * 1024);
      for (let i = 0; i < big.length; i += 64 * 1024) req.write(big.slice(i, i + 64 * 1024));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body).code).toBe('PAYLOAD_TOO_LARGE');
    // gRPC: a message over the server's receive limit (4 MiB) is refused before any handler.
    const orders = services.find((x) => x.name.includes('orders'))!;
    const huge = await callRpc(
      orders,
      'CreateOrder',
      { items: [{ sku, quantity: 1 }], idempotency_key: 'k'.repeat(5 * 1024 * 1024) },
      attacker.accessToken,
    );
    expect(grpc.status[huge.code]).toBe('RESOURCE_EXHAUSTED');
  });

  it('page sizes: every REST list takes its documented maximum and refuses one more; gRPC ListOrders caps any page_size at 100', async () => {
    const doc = (await http('GET', `${t.url}/docs-json`)).body;
    const callers: Record<string, string> = {
      '/api/v1/orders': attacker.accessToken,
      '/api/v1/users/me/logins': attacker.accessToken,
    };
    const checked: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      const limit = item.get?.parameters?.find((x: any) => x.name === 'limit' && x.in === 'query');
      if (!limit) continue;
      const max = limit.schema.maximum as number;
      expect({ path, max }).toEqual({ path, max: expect.any(Number) });
      const token = callers[path] ?? (path.includes('/admin/') ? admin : undefined);
      const at = await http('GET', `${t.url}${path}?limit=${max}`, { token });
      const over = await http('GET', `${t.url}${path}?limit=${max + 1}`, { token });
      expect({ path, at: at.status, over: over.status, code: over.body.code }).toEqual({
        path,
        at: 200,
        over: 400,
        code: 'VALIDATION_FAILED',
      });
      expect(at.body.items.length).toBeLessThanOrEqual(max);
      checked.push(`${path} ≤ ${max}`);
    }
    expect(checked.length).toBeGreaterThanOrEqual(4);

    // 101 orders for one buyer, then ask gRPC for a million per page.
    const buyer = await registerUser(t);
    for (let i = 0; i < 101; i += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, 101 - i) }, () =>
          placeOrder(t, buyer.accessToken, [{ sku, quantity: 1 }]),
        ),
      );
    const orders = services.find((x) => x.name.includes('orders'))!;
    const page = await callRpc(orders, 'ListOrders', { page_size: 1_000_000 }, buyer.accessToken);
    expect(page.code).toBe(grpc.status.OK);
    expect(page.first.orders).toHaveLength(100);
    expect(page.first.next_page_token).not.toBe('');
    console.log(
      `page caps: ${checked.join(', ')}; gRPC ListOrders page_size 1000000 → ${page.first.orders.length}`,
    );
  });

  it('login brute force: the limit is not bypassed by changing the email case or spacing, by spoofing X-Forwarded-For, or by switching instance', async () => {
    const u = await registerUser(t);
    const variants = [
      u.email,
      u.email.toUpperCase(),
      `  ${u.email} `,
      u.email.replace(/^./, (c) => c.toUpperCase()),
    ];
    const forged = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    // TRUST_PROXY is off (the default): X-Forwarded-For is the client's word and is ignored.
    for (let i = 0; i < 5; i++) {
      const res = await http('POST', (i % 2 ? t : b).api('/auth/login'), {
        body: { email: variants[i % variants.length], password: `wrong-${i}-password` },
        headers: { 'x-forwarded-for': forged() },
      });
      expect(res.status).toBe(401);
    }
    for (const [inst, email] of [
      [t, variants[1]],
      [b, variants[2]],
      [t, variants[3]],
    ] as const) {
      const res = await http('POST', inst.api('/auth/login'), {
        body: { email, password: u.password },
        headers: { 'x-forwarded-for': forged() },
      });
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('RATE_LIMITED');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('security headers: on successes, errors (400, 401, 404, 413, router errors), docs and health; no X-Powered-By', async () => {
    const responses: [string, Response][] = [];
    const get = async (what: string, url: string, init: RequestInit = {}) =>
      responses.push([what, await fetch(url, init)]);
    await get('200 product list', t.api('/products'));
    await get('200 health', `${t.url}/health`);
    await get('200 docs', `${t.url}/docs`);
    await get('400 validation', t.api('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    await get('400 malformed JSON', t.api('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    await get('401', t.api('/users/me'));
    await get('404', t.api('/nope'));
    await get('413', t.api('/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(t.config.http.bodyLimitBytes) }),
    });
    await get('414 router error', t.api(`/products/${'a'.repeat(200)}`));
    await get('400 router error', t.api('/products/%E0%A4%A'));
    for (const [what, res] of responses) {
      await res.arrayBuffer();
      const wrong = Object.entries(API_HEADERS)
        .filter(([h, re]) => !re.test(res.headers.get(h) ?? ''))
        .map(([h]) => `${h}: ${res.headers.get(h)}`);
      if (what.includes('docs')) wrong.push(...HTML_HEADERS.filter((h) => !res.headers.get(h)));
      expect({ what, wrong, poweredBy: res.headers.get('x-powered-by') }).toEqual({
        what,
        wrong: [],
        poweredBy: null,
      });
      expect(res.headers.get('x-request-id')).toBeTruthy();
    }
    expect(responses.length).toBe(10);
    const router = responses.find(([w]) => w === '414 router error')![1];
    expect(router.status).toBe(414);
  });
});
