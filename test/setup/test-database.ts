import { createConnection } from 'mysql2/promise';
import type { MysqlTarget } from '../../src/infra/config/app-config';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function sql(
  target: Pick<MysqlTarget, 'host' | 'port' | 'user' | 'password'>,
  statement: string,
  params: unknown[] = [],
): Promise<unknown> {
  const conn = await createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    connectTimeout: 5000,
  });
  try {
    const [rows] = await conn.query(statement, params);
    return rows;
  } finally {
    await conn.end();
  }
}

/** Waits until `database` exists on every replica, i.e. replication carried the CREATE DATABASE. */
export async function waitForReplication(
  replicas: MysqlTarget[],
  database: string,
  timeoutMs = 20000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const r of replicas) {
    for (;;) {
      const rows = (await sql(
        r,
        'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
        [database],
      )) as unknown[];
      if (rows.length) break;
      if (Date.now() > deadline)
        throw new Error(`database ${database} did not replicate to ${r.label} within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
}
