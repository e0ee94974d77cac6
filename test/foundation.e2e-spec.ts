import { createConnection } from 'mysql2/promise';
import { DbRouter } from '../src/infra/database/db-router.service';
import { QUEUES } from '../src/infra/queue/queues';
import { requestContext } from '../src/common/context/request-context';
import { FaultProxy } from './support/fault-proxy';
import { TestApp, eventually, http, startApp } from './support/test-app';
import { registerUser } from './support/auth';
import { adminReadiness } from './support/readiness';
import { sql } from './setup/test-database';

const serverId = async (db: DbRouter, ctx: { userId?: string; wrotePrimary?: boolean } = {}) =>
  requestContext
    .run({ requestId: 't', ...ctx }, () => db.read((em) => em.query('SELECT @@server_id AS id')))
    .then((r) => Number(r[0].id));

describe('foundation: boot, conventions, health and docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('answers liveness and names primary, each replica and redis in readiness', async () => {
    expect((await http('GET', `${t.url}/health`)).status).toBe(200);
    const ready = await adminReadiness(t);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.primary.state).toBe('up');
    expect(ready.body.redis.state).toBe('up');
    expect(ready.body.replicas).toEqual([
      expect.objectContaining({ name: 'replica-1', state: 'up', lagSeconds: expect.any(Number) }),
    ]);
    expect(ready.body.reads).toBe('replicas');
    // Every Bull queue with its counts, its backlog limit and whether it is under backpressure.
    expect(Object.keys(ready.body.queues).sort()).toEqual(Object.values(QUEUES).sort());
    for (const q of Object.values<Record<string, unknown>>(ready.body.queues))
      expect(q).toEqual({
        state: 'up',
        waiting: expect.any(Number),
        active: expect.any(Number),
        failed: expect.any(Number),
        delayed: expect.any(Number),
        limit: t.config.queues.backlogLimit,
        backpressure: false,
      });
  });

  it('gives anonymous, customer and bad-token callers of readiness the status only: no host, no error text, no queue counts', async () => {
    const customer = await registerUser(t);
    const admin = await adminReadiness(t);
    expect(admin.body.unavailable).toEqual([]);
    const hosts = [t.config.db.primary.label, ...t.config.db.replicas.map((r) => r.label)];
    for (const headers of [
      {} as Record<string, string>,
      { authorization: `Bearer ${customer.accessToken}` },
      { authorization: 'Bearer not-a-token' },
    ]) {
      const r = await http('GET', `${t.url}/health/ready`, { headers });
      expect({ headers, status: r.status, body: r.body }).toEqual({
        headers,
        status: 200,
        body: { status: 'ok' },
      });
      const text = JSON.stringify(r.body);
      for (const host of hosts) expect(text).not.toContain(host);
    }
  });

  it('serves Swagger UI at /docs and an OpenAPI 3 document with the error schema on every operation', async () => {
    const ui = await http('GET', `${t.url}/docs`);
    expect(ui.status).toBe(200);
    expect(String(ui.body)).toContain('swagger-ui');
    const doc = await http('GET', `${t.url}/docs-json`);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.components.schemas.ErrorResponseDto.required).toEqual(
      expect.arrayContaining(['statusCode', 'code', 'message', 'requestId']),
    );
    // Every error response of every operation (explicit 401/404/409/429 ... and the catch-all
    // 4XX/5XX) carries the one error schema.
    const missing: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries<Record<string, any>>(doc.body.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        operations++;
        const errors = Object.keys(op.responses).filter((code) => /^[45]/.test(code));
        if (!errors.includes('4XX') || !errors.includes('5XX'))
          missing.push(`${method.toUpperCase()} ${path}: no 4XX/5XX`);
        for (const code of errors) {
          const schema = op.responses[code].content?.['application/json']?.schema;
          if (schema?.$ref !== '#/components/schemas/ErrorResponseDto')
            missing.push(`${method.toUpperCase()} ${path} ${code}: ${JSON.stringify(schema ?? null)}`);
        }
      }
    }
    expect(operations).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('answers unknown routes with the contract error shape and echoes the request id', async () => {
    const res = await http('GET', `${t.url}/api/v1/nope`, { headers: { 'x-request-id': 'req-abc-123' } });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: expect.any(String),
      requestId: 'req-abc-123',
    });
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
  });

  it('sets the security headers on API responses (nosniff, frame denial)', async () => {
    const res = await http('GET', `${t.url}/health`);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBeTruthy();
  });

  it('exposes Prometheus metrics', async () => {
    const res = await http('GET', `${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(String(res.body)).toContain('shop_http_request_duration_seconds');
  });
});

describe('foundation: reads go to the replica, writes and read-your-writes to the primary', () => {
  let t: TestApp;
  let db: DbRouter;
  beforeAll(async () => {
    // Health is checked only at boot here, so pausing replication below does not take the replica out.
    t = await startApp({ DB_REPLICA_CHECK_INTERVAL_MS: '600000' });
    db = t.app.get(DbRouter);
  });
  afterAll(async () => {
    await sql(t.config.db.replicas[0], 'START REPLICA').catch(() => undefined);
    await t.close();
  });

  it('routes plain reads to a replica and reads after a write (same unit of work or same user) to the primary', async () => {
    const primaryId = Number((await db.primaryReader().query('SELECT @@server_id AS id'))[0].id);
    const replicaId = await serverId(db);
    expect(replicaId).not.toBe(primaryId);
    expect(await serverId(db, { wrotePrimary: true })).toBe(primaryId);
    await requestContext.run({ requestId: 'w', userId: 'user-ryw' }, () =>
      db.transaction(async (em) => em.query('SELECT 1')),
    );
    expect(await serverId(db, { userId: 'user-ryw' })).toBe(primaryId);
    expect(await serverId(db, { userId: 'someone-else' })).toBe(replicaId);
  });

  it('reads stale data while replication is paused and fresh data once it resumes', async () => {
    const replica = t.config.db.replicas[0];
    await db.execute('CREATE TABLE IF NOT EXISTS routing_probe (id INT PRIMARY KEY, v INT NOT NULL)');
    await db.execute('REPLACE INTO routing_probe VALUES (1, 1)');
    const readV = () =>
      requestContext.run({ requestId: 'r' }, () =>
        db.read((em) => em.query('SELECT v FROM routing_probe WHERE id = 1')),
      );
    await eventually(async () => (await readV())[0]?.v === 1);
    await sql(replica, 'STOP REPLICA SQL_THREAD');
    await db.execute('UPDATE routing_probe SET v = 2 WHERE id = 1');
    expect((await readV())[0].v).toBe(1); // stale: the read was served by the replica
    expect((await db.primaryReader().query('SELECT v FROM routing_probe WHERE id = 1'))[0].v).toBe(2);
    await sql(replica, 'START REPLICA SQL_THREAD');
    await eventually(async () => (await readV())[0].v === 2);
  });
});

describe('foundation: a replica that is down or lagging is taken out of rotation', () => {
  let t: TestApp;
  let db: DbRouter;
  let proxy: FaultProxy;
  beforeAll(async () => {
    const replica = JSON.parse(JSON.stringify(process.env.DB_REPLICA_URLS!.split(',')[0])) as string;
    const u = new URL(replica);
    proxy = new FaultProxy(u.hostname, Number(u.port));
    await proxy.start();
    u.port = String(proxy.port);
    t = await startApp({ DB_REPLICA_URLS: u.toString(), DB_REPLICA_CHECK_INTERVAL_MS: '200' });
    db = t.app.get(DbRouter);
  });
  afterAll(async () => {
    await sql(t.config.db.replicas[0], 'START REPLICA').catch(() => undefined);
    await t.close();
    await proxy.stop();
  });

  it('falls back to the primary when the replica is down, reports it, and returns to the replica without a restart', async () => {
    const primaryId = Number((await db.primaryReader().query('SELECT @@server_id AS id'))[0].id);
    expect(await serverId(db)).not.toBe(primaryId);
    await proxy.set('refuse');
    // Even before the monitor notices, a failing replica read is retried on the primary.
    expect(await serverId(db)).toBe(primaryId);
    const ready = await eventually(async () => {
      const r = await adminReadiness(t);
      return r.body.replicas[0].state === 'down' ? r : undefined;
    });
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.reads).toBe('primary');
    expect(ready.body.unavailable).toEqual(['replica-1']);
    // The admin view says where and why (the first failure seen: a reset read or a refused check).
    expect(ready.body.replicas[0].host).toContain(String(proxy.port));
    expect(ready.body.replicas[0].reason).toMatch(/ECONNRESET|ECONNREFUSED|closed|timed out/i);
    // Anonymous callers (probes, load balancers) get the status only: no host, no error text.
    const anonymous = await http('GET', `${t.url}/health/ready`);
    expect({ status: anonymous.status, body: anonymous.body }).toEqual({
      status: 200,
      body: { status: 'degraded' },
    });
    await proxy.set('pass');
    await eventually(async () => (await serverId(db)) !== primaryId, 15000);
  });

  it('takes a replica whose replication is stopped out of rotation and reports it as lagging', async () => {
    const primaryId = Number((await db.primaryReader().query('SELECT @@server_id AS id'))[0].id);
    await eventually(async () => (await serverId(db)) !== primaryId, 15000);
    await sql(t.config.db.replicas[0], 'STOP REPLICA SQL_THREAD');
    const ready = await eventually(async () => {
      const r = await adminReadiness(t);
      return r.body.replicas[0].state === 'lagging' ? r : undefined;
    });
    expect(ready.body.replicas[0].reason).toMatch(/SQL thread stopped/);
    expect(await serverId(db)).toBe(primaryId);
    await sql(t.config.db.replicas[0], 'START REPLICA SQL_THREAD');
    await eventually(async () => (await serverId(db)) !== primaryId, 15000);
  });
});

describe('foundation: an empty DB_REPLICA_URLS means reads on the primary', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ DB_REPLICA_URLS: '' });
  });
  afterAll(() => t.close());

  it('serves plain reads from the primary and reports ready, not degraded', async () => {
    const db = t.app.get(DbRouter);
    const primaryId = Number((await db.primaryReader().query('SELECT @@server_id AS id'))[0].id);
    expect(await serverId(db)).toBe(primaryId);
    const ready = await adminReadiness(t);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', replicas: [], reads: 'primary' });
  });
});

describe('foundation: CORS from CORS_ORIGINS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ CORS_ORIGINS: 'https://shop.example, https://admin.shop.example' });
  });
  afterAll(() => t.close());

  const preflight = (origin: string) =>
    http('OPTIONS', t.api('/products'), {
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  it('allows the listed origins (preflight and actual request) and exposes the request id', async () => {
    for (const origin of ['https://shop.example', 'https://admin.shop.example']) {
      const pre = await preflight(origin);
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
      expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    }
    const res = await http('GET', t.api('/categories'), { headers: { origin: 'https://shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('gives an origin that is not listed no CORS grant', async () => {
    const pre = await preflight('https://evil.example');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await http('GET', t.api('/categories'), { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    // A prefix or a suffix of a listed origin is not that origin.
    const lookalike = await http('GET', t.api('/categories'), {
      headers: { origin: 'https://shop.example.evil.example' },
    });
    expect(lookalike.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('foundation: a replica lagging past DB_REPLICA_MAX_LAG_SECONDS leaves rotation', () => {
  let t: TestApp;
  let db: DbRouter;
  let replicaLock: Awaited<ReturnType<typeof createConnection>> | undefined;
  beforeAll(async () => {
    // Bound 0: a replica is out as soon as it is a whole second behind.
    t = await startApp({ DB_REPLICA_MAX_LAG_SECONDS: '0', DB_REPLICA_CHECK_INTERVAL_MS: '200' });
    db = t.app.get(DbRouter);
  });
  afterAll(async () => {
    await replicaLock?.end().catch(() => undefined);
    await t.close();
  });

  it('takes a replica whose applier waits behind a lock out of rotation, reports its lag, and takes it back once it catches up', async () => {
    const primaryId = Number((await db.primaryReader().query('SELECT @@server_id AS id'))[0].id);
    await db.execute('CREATE TABLE IF NOT EXISTS lag_probe (id INT PRIMARY KEY, v INT NOT NULL)');
    await db.execute('REPLACE INTO lag_probe VALUES (1, 1)');
    const readV = () =>
      requestContext.run({ requestId: 'lag' }, () =>
        db.read((em) => em.query('SELECT v, @@server_id AS sid FROM lag_probe WHERE id = 1')),
      );
    await eventually(async () => {
      const [row] = await readV();
      return row?.v === 1 && Number(row.sid) !== primaryId;
    }, 15000);

    // A session on the replica holds a read lock on the table (allowed on a read-only server):
    // replication keeps running, both threads on, but its applier waits for that lock to apply
    // the next change of the table, so the replica falls further behind every second.
    const replica = t.config.db.replicas[0];
    replicaLock = await createConnection({
      host: replica.host,
      port: replica.port,
      user: replica.user,
      password: replica.password,
      database: replica.database,
    });
    await replicaLock.query('LOCK TABLES lag_probe READ');
    await db.execute('UPDATE lag_probe SET v = 2 WHERE id = 1');

    const ready = await eventually(async () => {
      const r = await adminReadiness(t);
      return r.body.replicas[0].state === 'lagging' ? r : undefined;
    }, 20000);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.reads).toBe('primary');
    expect(ready.body.replicas[0].lagSeconds).toBeGreaterThan(0);
    expect(ready.body.replicas[0].reason).toMatch(/^lag \d+s > 0s$/);
    // Out of rotation: the read is fresh because it is served by the primary.
    const [row] = await readV();
    expect([row.v, Number(row.sid)]).toEqual([2, primaryId]);

    await replicaLock.query('UNLOCK TABLES');
    await replicaLock.end();
    replicaLock = undefined;
    await eventually(async () => {
      const [r] = await readV();
      return r.v === 2 && Number(r.sid) !== primaryId;
    }, 20000);
  });
});
