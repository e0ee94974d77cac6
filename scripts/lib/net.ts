/** Small network helpers shared by the scripts, the benchmark and the tests that start processes. */
import { AddressInfo, createServer } from 'node:net';

/** A TCP port that was free a moment ago (the OS picks it; bound, then released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One JSON request over fetch: the body (when given) as JSON, an optional bearer token, the answer
 * parsed as JSON (its text when it is not JSON). Bounded by `timeoutMs`.
 */
export async function jsonRequest(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
  timeoutMs = 30_000,
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed };
}
