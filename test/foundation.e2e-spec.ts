import { DbRouter } from '../src/infra/database/db-router.service';
import { requestContext } from '../src/common/context/request-context';
import { FaultProxy } from './support/fault-proxy';
import { TestApp, eventually, http, startApp } from './support/test-app';
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
    const ready = await http('GET', `${t.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.primary.state).toBe('up');
    expect(ready.body.redis.state).toBe('up');
    expect(ready.body.replicas).toEqual([expect.objectContaining({ name: 'replica-1', state: 'up' })]);
    expect(ready.body.reads).toBe('replicas');
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
    for (const item of Object.values<Record<string, any>>(doc.body.paths)) {
      for (const op of Object.values<any>(item)) expect(op.responses['4XX']).toBeDefined();
    }
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

  it('sets security headers (helmet)', async () => {
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
    await sql(t.config.db.replicas[0], 'START SLAVE').catch(() => undefined);
    await t.close();
  });

  it('routes plain reads to a replica and reads after a write (same unit of work or same user) to the primary', async () => {
    const primaryId = Number((await db.primary.query('SELECT @@server_id AS id'))[0].id);
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
    await db.primary.query('CREATE TABLE IF NOT EXISTS routing_probe (id INT PRIMARY KEY, v INT NOT NULL)');
    await db.primary.query('REPLACE INTO routing_probe VALUES (1, 1)');
    const readV = () =>
      requestContext.run({ requestId: 'r' }, () =>
        db.read((em) => em.query('SELECT v FROM routing_probe WHERE id = 1')),
      );
    await eventually(async () => (await readV())[0]?.v === 1);
    await sql(replica, 'STOP SLAVE SQL_THREAD');
    await db.primary.query('UPDATE routing_probe SET v = 2 WHERE id = 1');
    expect((await readV())[0].v).toBe(1); // stale: the read was served by the replica
    expect((await db.primary.query('SELECT v FROM routing_probe WHERE id = 1'))[0].v).toBe(2);
    await sql(replica, 'START SLAVE SQL_THREAD');
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
    await sql(t.config.db.replicas[0], 'START SLAVE').catch(() => undefined);
    await t.close();
    await proxy.stop();
  });

  it('falls back to the primary when the replica is down, reports it, and returns to the replica without a restart', async () => {
    const primaryId = Number((await db.primary.query('SELECT @@server_id AS id'))[0].id);
    expect(await serverId(db)).not.toBe(primaryId);
    await proxy.set('refuse');
    // Even before the monitor notices, a failing replica read is retried on the primary.
    expect(await serverId(db)).toBe(primaryId);
    const ready = await eventually(async () => {
      const r = await http('GET', `${t.url}/health/ready`);
      return r.body.replicas[0].state === 'down' ? r : undefined;
    });
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.reads).toBe('primary');
    await proxy.set('pass');
    await eventually(async () => (await serverId(db)) !== primaryId, 15000);
  });

  it('takes a replica whose replication is stopped out of rotation and reports it as lagging', async () => {
    const primaryId = Number((await db.primary.query('SELECT @@server_id AS id'))[0].id);
    await eventually(async () => (await serverId(db)) !== primaryId, 15000);
    await sql(t.config.db.replicas[0], 'STOP SLAVE SQL_THREAD');
    const ready = await eventually(async () => {
      const r = await http('GET', `${t.url}/health/ready`);
      return r.body.replicas[0].state === 'lagging' ? r : undefined;
    });
    expect(ready.body.replicas[0].reason).toMatch(/SQL thread stopped/);
    expect(await serverId(db)).toBe(primaryId);
    await sql(t.config.db.replicas[0], 'START SLAVE SQL_THREAD');
    await eventually(async () => (await serverId(db)) !== primaryId, 15000);
  });
});
