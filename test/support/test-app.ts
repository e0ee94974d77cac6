import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { createApp, grpcPort, listen } from '../../src/app.factory';
import { AppConfig, loadConfig } from '../../src/infra/config/app-config';

/**
 * Jest loads this module afresh for every test file, so every file gets its own Redis namespace
 * (queues included): jobs a previous suite left behind (e.g. mail retries towards an SMTP server
 * that suite already stopped) are never consumed by the next suite's apps. Instances started by
 * the same file share it, as instances of one deployment do.
 */
const FILE_PREFIX = `${process.env.REDIS_PREFIX ?? 'test'}-${randomBytes(3).toString('hex')}`;

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  api: (path: string) => string;
  /** host:port of the gRPC server (roles that serve HTTP). */
  grpcUrl: string;
  close: () => Promise<void>;
}

/**
 * Boots the real application (same factory as main.ts) on a random port against the run's
 * database and Redis. Call it twice for two instances: they share nothing in memory.
 */
export async function startApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({
    ...process.env,
    // Explicit: without NODE_ENV the app is production (the global setup sets test).
    NODE_ENV: process.env.NODE_ENV || 'test',
    PORT: '0',
    GRPC_PORT: '0',
    REDIS_PREFIX: FILE_PREFIX,
    ...env,
  });
  const app = await createApp(config, { logger: process.env.TEST_APP_LOGS === '1' });
  await listen(app, config);
  const addr = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${addr.port}`;
  return {
    app,
    config,
    url,
    api: (path: string) => `${url}/api/v1${path.startsWith('/') ? path : `/${path}`}`,
    grpcUrl: `127.0.0.1:${grpcPort(app) ?? 0}`,
    close: () => app.close(),
  };
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client over fetch (real HTTP, as clients use the API). */
export async function http<T = any>(
  method: string,
  url: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] ??= 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** Polls until `fn` returns a truthy value or the timeout passes. */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 10000,
  stepMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `condition not met within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Headers that legitimately differ between two responses (time, connection, per-request id). */
const VARYING = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

/** A response's headers without the VARYING ones: two answers to compare (edge vs pipeline). */
export function comparableHeaders(r: JsonResponse): Record<string, string> {
  const out: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (!VARYING.has(k)) out[k] = v;
  });
  return out;
}
