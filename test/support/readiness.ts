import { adminToken } from './auth';
import { JsonResponse, TestApp, http } from './test-app';

const tokens = new WeakMap<TestApp, Promise<string>>();

/**
 * GET /health/ready with the admin's token: every dependency by name with its state (primary,
 * replicas, redis, queues, `unavailable`). Anonymous callers get `{status}` only.
 */
export async function adminReadiness(t: TestApp): Promise<JsonResponse> {
  let token = tokens.get(t);
  if (!token) {
    token = adminToken(t);
    tokens.set(t, token);
  }
  return http('GET', `${t.url}/health/ready`, { token: await token });
}
